// commands.h: the subcommands of the `strata` program.
//
// Each tools/cmd_<area>.cpp defines one add_<area>_commands function that adds its subcommands to
// the CLI11 app; strata.cpp calls each once. A subcommand's callback wraps its work in
// run_command, so every error is reported the same way: one line on stderr,
//   strata <subcommand>: error: <message naming the file/value and a hint>
// and exit code 2.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

namespace strata {

void add_bpe_commands(CLI::App& app);       // bpe-train, tokenize, detokenize (cmd_bpe.cpp)
void add_lm_check_commands(CLI::App& app);  // lm-check (cmd_lm_check.cpp)

// Runs body(); on an exception prints "strata <name>: error: <what>" and ends with exit code 2.
template <class Body>
void run_command(const char* name, Body&& body) {
  try {
    body();
  } catch (const CLI::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::cerr << "strata " << name << ": error: " << e.what() << "\n";
    throw CLI::RuntimeError(2);  // CLI11 prints nothing more for a RuntimeError
  }
}

}  // namespace strata
