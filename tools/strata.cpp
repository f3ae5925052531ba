// strata.cpp: the `strata` command-line program; the subcommands live in tools/cmd_*.cpp.
//
//   strata bpe-train --input FILE --vocab-size N [--special-token TOK]... --out DIR [--threads K]
//   strata tokenize  --tokenizer DIR [--special-token TOK]... --input FILE --out IDS.npy [--threads K]
//   strata detokenize --tokenizer DIR --input IDS.npy
//   strata lm-check --config CONFIG.json --weights W.safetensors --tokens IDS.npy [--targets TGT.npy]
//                   --out OUT.safetensors [--steps N --lr X --weight-decay X --beta1 X --beta2 X --eps X]
//   strata <subcommand> --help
//
// Exit codes: 0 success, 2 bad input or usage (the message says which).
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"strata: train a byte-level BPE tokenizer, tokenize text, check a Transformer LM against PyTorch"};
  app.require_subcommand(1);
  strata::add_bpe_commands(app);
  strata::add_lm_check_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the usage error (nothing for errors already reported)
    return code == 0 ? 0 : 2;
  }
  return 0;
}
