// embedding.h: Embedding, a lookup table: row i of `weight` (num_embeddings, embedding_dim) is the
// vector of token i. Its gradient adds each output row's gradient back into the row it came from.
//
// Initialisation (CS336 handout): N(0, 1) truncated to [-3, 3].
#pragma once

#include "autograd/variable.h"
#include "nn/module.h"
#include "tensor/random.h"

namespace strata {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "Embedding"; }

  // token_ids int64 (...) with values in [0, num_embeddings) -> (..., embedding_dim)
  Variable forward(const Tensor& token_ids) const;
  Variable operator()(const Tensor& token_ids) const { return forward(token_ids); }

  int64_t num_embeddings, embedding_dim;
  Variable weight;  // (num_embeddings, embedding_dim)
};

// Throws an Error naming `what` when an id of `token_ids` (int64) lies outside [0, vocab_size).
void check_token_ids(const Tensor& token_ids, int64_t vocab_size, const char* what);

}  // namespace strata
