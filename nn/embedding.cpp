// embedding.cpp: Embedding, a row lookup.
#include "nn/embedding.h"

#include "autograd/functions.h"

namespace strata {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* gen, DType dtype)
    : num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  check(num_embeddings > 0 && embedding_dim > 0,
        "Embedding: num_embeddings ({}) and embedding_dim ({}) must be positive", num_embeddings, embedding_dim);
  weight = register_parameter("weight", trunc_normal({num_embeddings, embedding_dim}, 0.0, 1.0, -3.0, 3.0, dtype, gen));
}

void check_token_ids(const Tensor& token_ids, int64_t vocab_size, const char* what) {
  check(token_ids.dtype() == DType::i64, "{}: token ids must be int64, got {} of shape {}; hint: .to(DType::i64)",
        what, token_ids.dtype(), token_ids.shape());
  const Tensor ids = token_ids.contiguous();
  const int64_t* p = ids.data<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    check(p[i] >= 0 && p[i] < vocab_size,
          "{}: token id {} (flat index {} of ids {}) is outside [0, {}); hint: the tokenizer's vocabulary must "
          "not exceed the model's vocab_size",
          what, p[i], i, token_ids.shape(), vocab_size);
}

Variable Embedding::forward(const Tensor& token_ids) const {
  check_token_ids(token_ids, num_embeddings, "Embedding");
  return embedding(weight, token_ids);
}

}  // namespace strata
