// io.h: reading and writing tensors in files: NumPy .npy and safetensors.
//
// Readers treat files as hostile: header sizes are bounded (1 MiB for .npy, 100 MB for
// safetensors, the bound its specification sets), every offset and size is checked against the
// file, and a corrupt or truncated file gives an Error naming the file (and tensor), never a crash.
#pragma once

#include "tensor/tensor.h"

#include <map>
#include <string>
#include <vector>

namespace strata {

// .npy v1.0/v2.0, little-endian, C order: f32 f64 i64 i32 u16 u8 bool.
Tensor load_npy(const std::string& path);
// Memory-maps the file: the tensor views the mapped bytes (for large token files). The mapping is
// private: writes through the tensor never reach the file. Do not truncate the file while mapped.
Tensor load_npy_mmap(const std::string& path);
// Writes a contiguous copy of t; written to a temporary name and renamed, so a crash never leaves
// half a file at `path`.
void save_npy(const std::string& path, const Tensor& t);

// safetensors: F32 F64 I64 I32 U16 U8 BOOL read and written as is; BF16 and F16 converted to f32
// on load. `metadata` is the string map stored under "__metadata__".
struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};
SafetensorsFile load_safetensors(const std::string& path);
// Tensors are written in name order; the write is atomic (temporary + rename) like save_npy.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace strata
