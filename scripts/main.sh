#!/usr/bin/env bash
# main.sh: installs the dependencies, builds strata, and runs the main job on the TinyStories sample
# bundled in data/: the tensor tour, a BPE tokenizer trained on the sample (vocab 10,000) and used
# to encode the validation text, a small MLP trained with autograd + AdamW, and the tensor
# benchmark (ours vs direct BLAS / memcpy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh

out=build/main-job
mkdir -p "$out"
echo "== tensor tour"
./build/examples/01_tensor_tour
echo "== BPE: train on data/tinystories/train.txt, encode valid.txt, decode it back"
./build/tools/strata bpe-train --input data/tinystories/train.txt --vocab-size 10000 \
  --special-token '<|endoftext|>' --out "$out/tokenizer"
./build/tools/strata tokenize --tokenizer "$out/tokenizer" --special-token '<|endoftext|>' \
  --input data/tinystories/valid.txt --out "$out/valid_ids.npy"
./build/tools/strata detokenize --tokenizer "$out/tokenizer" --input "$out/valid_ids.npy" > "$out/valid_roundtrip.txt"
cmp data/tinystories/valid.txt "$out/valid_roundtrip.txt" && echo "decode(encode(valid.txt)) == valid.txt"
echo "== MLP with autograd and AdamW"
./build/examples/03_mlp
echo "== tensor benchmark"
./build/bench/bench_tensor --runs 5
