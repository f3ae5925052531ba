// progress.h: a one-line progress bar on stderr for long runs, shown only on a terminal.
//
//   count  [##############..............]  48%   24.1 MB/s  ETA 3s
//
// Redrawn at most 10 times a second; erased by finish(), so the summary line that follows stands
// alone. When stderr is not a terminal (a pipe, a log file, CI) nothing is drawn.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace strata::tools {

// Rates and the ETA count from construction: make the bar when the work starts.
class ProgressBar {
 public:
  enum class Unit { bytes, items };
  ProgressBar(std::string label, Unit unit);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(uint64_t done, uint64_t total);
  // Erases the bar (a no-op when nothing was drawn).
  void finish();

 private:
  std::string label_;
  Unit unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

// "812 B", "3.8 KB", "8.76 MB", "2.10 GB" (decimal units, as MB/s rates are quoted).
std::string human_bytes(uint64_t bytes);

}  // namespace strata::tools
