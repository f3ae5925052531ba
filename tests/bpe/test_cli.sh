#!/usr/bin/env bash
# test_cli.sh: `strata bpe-train`, `tokenize` and `detokenize` end to end: a train -> tokenize ->
# detokenize round trip gives the text back byte for byte; bad input exits with code 2, prints one
# error line naming the problem, and leaves no output file (an existing one stays as it was).
#   test_cli.sh STRATA_EXE FIXTURES_DIR
set -u
strata=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_error WHAT MESSAGE_PART -- command...: exit code 2 and MESSAGE_PART on stderr.
expect_error() {
  local what=$1 part=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  [ "$code" = 2 ] || fail "$what: exit code $code, expected 2"
  grep -qF -- "$part" "$tmp/err" || fail "$what: stderr lacks '$part': $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$what: wrote to stdout: $(head -c 200 "$tmp/out")"
}

text="$fixtures/tinystories_sample.txt"

# Round trip with a trained tokenizer.
"$strata" bpe-train --input "$text" --vocab-size 400 --special-token '<|endoftext|>' --out "$tmp/tok" --threads 2 \
  >"$tmp/train.log" 2>&1 || fail "bpe-train exit code $?: $(cat "$tmp/train.log")"
grep -q '^bpe-train: 400 tokens (143 merges) from 3.8 KB in .* bytes/token' "$tmp/train.log" ||
  fail "bpe-train summary: $(cat "$tmp/train.log")"
head -1 "$tmp/tok/merges.txt" | grep -q '^#version: 0.2$' || fail "merges.txt has no #version line"
grep -q '"<|endoftext|>": 256' "$tmp/tok/vocab.json" || fail "vocab.json lacks <|endoftext|> as id 256"
"$strata" tokenize --tokenizer "$tmp/tok" --input "$text" --out "$tmp/ids.npy" >"$tmp/tok.log" 2>&1 ||
  fail "tokenize exit code $?: $(cat "$tmp/tok.log")"
grep -q '^tokenize: 3.8 KB -> [0-9]* tokens in .* s (encoding .* MB/s, [0-9]* threads), .* bytes/token -> .*ids.npy (uint16)$' "$tmp/tok.log" ||
  fail "tokenize summary: $(cat "$tmp/tok.log")"
head -c 10 "$tmp/ids.npy" | grep -q 'NUMPY' || fail "ids.npy is not a .npy file"
"$strata" detokenize --tokenizer "$tmp/tok" --input "$tmp/ids.npy" >"$tmp/back.txt" 2>"$tmp/detok.log" ||
  fail "detokenize exit code $?: $(cat "$tmp/detok.log")"
cmp -s "$text" "$tmp/back.txt" || fail "detokenize(tokenize(text)) differs from the text"
grep -q '^detokenize: [0-9]* tokens -> 3.8 KB' "$tmp/detok.log" || fail "detokenize summary: $(cat "$tmp/detok.log")"

# GPT-2's files; its <|endoftext|> (an added token) is special without --special-token.
mkdir -p "$tmp/gpt2"
cp "$fixtures/gpt2_vocab.json" "$tmp/gpt2/vocab.json"
cp "$fixtures/gpt2_merges.txt" "$tmp/gpt2/merges.txt"
for name in address.txt german.txt tinystories_sample.txt; do
  "$strata" tokenize --tokenizer "$tmp/gpt2" --input "$fixtures/$name" --out "$tmp/g.npy" --threads 3 >/dev/null 2>&1 ||
    fail "tokenize $name with GPT-2"
  "$strata" detokenize --tokenizer "$tmp/gpt2" --input "$tmp/g.npy" 2>/dev/null >"$tmp/g.txt"
  cmp -s "$fixtures/$name" "$tmp/g.txt" || fail "GPT-2 round trip of $name"
done
# 923 ids with <|endoftext|> special, 953 without (CS336 expected_ids.json): 923 * 2 + 128 header bytes.
size=$(stat -c %s "$tmp/g.npy")
[ "$size" = $((923 * 2 + 128)) ] || fail "GPT-2 ids of tinystories_sample.txt: $size bytes, expected $((923 * 2 + 128))"

# Bad input: exit code 2, one message, no output.
expect_error "missing input" "read '$tmp/none.txt': cannot open: No such file or directory" -- \
  "$strata" bpe-train --input "$tmp/none.txt" --vocab-size 300 --out "$tmp/new"
[ ! -e "$tmp/new" ] || fail "bpe-train with a missing input created its output directory"
expect_error "vocab too small" "vocab_size 256 is below the 256 single bytes + 1 special tokens = 257" -- \
  "$strata" bpe-train --input "$text" --vocab-size 256 --special-token '<|endoftext|>' --out "$tmp/new"
[ ! -e "$tmp/new" ] || fail "bpe-train with a bad vocab size created its output directory"
expect_error "missing tokenizer" "tokenizer directory '$tmp/nope' does not exist" -- \
  "$strata" tokenize --tokenizer "$tmp/nope" --input "$text" --out "$tmp/new.npy"
mkdir -p "$tmp/bad"
echo '{"a": 0' >"$tmp/bad/vocab.json"
: >"$tmp/bad/merges.txt"
echo "keep me" >"$tmp/old.npy"
expect_error "broken vocab.json" "load vocab: '$tmp/bad/vocab.json' is not valid JSON" -- \
  "$strata" tokenize --tokenizer "$tmp/bad" --input "$text" --out "$tmp/old.npy"
[ "$(cat "$tmp/old.npy")" = "keep me" ] || fail "a failed tokenize touched the existing output file"
cp "$tmp/tok/vocab.json" "$tmp/bad/vocab.json"
rm "$tmp/bad/merges.txt"
expect_error "missing merges.txt" "load merges: cannot open '$tmp/bad/merges.txt'" -- \
  "$strata" detokenize --tokenizer "$tmp/bad" --input "$tmp/ids.npy"
expect_error "missing text" "input '$tmp/none.txt' does not exist or is not a file" -- \
  "$strata" tokenize --tokenizer "$tmp/tok" --input "$tmp/none.txt" --out "$tmp/new.npy"
[ ! -e "$tmp/new.npy" ] || fail "a failed tokenize left $tmp/new.npy"
expect_error "ids out of range" "is outside the vocabulary of 400 tokens (0..399)" -- \
  "$strata" detokenize --tokenizer "$tmp/tok" --input "$tmp/g.npy"
expect_error "not a .npy" "load_npy" -- "$strata" detokenize --tokenizer "$tmp/tok" --input "$text"
expect_error "missing option" "--input is required" -- "$strata" tokenize --tokenizer "$tmp/tok" --out "$tmp/x.npy"

if [ "$failures" = 0 ]; then echo "cli: ok"; fi
exit $((failures > 0))
