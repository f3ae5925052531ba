// ops_testing.h: the op tests' helpers now live in tests/testing/tensor_testing.h. This file only
// forwards to it for test_threads.cpp until that file includes tensor_testing.h itself; then it goes.
#pragma once

#include "tests/testing/tensor_testing.h"
