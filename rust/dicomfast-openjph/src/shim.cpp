// A C ABI over OpenJPH's C++ encoder: one call encodes one frame (interleaved
// little-endian samples) into a J2K codestream handed to the caller's write function.
// OpenJPH reports errors through a global handler that must not return; ours records
// the message in a thread-local buffer and throws, and every exception is caught here,
// so nothing C++ crosses into Rust.

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>

#include "ojph_arch.h"
#include "ojph_codestream.h"
#include "ojph_file.h"
#include "ojph_mem.h"
#include "ojph_message.h"
#include "ojph_params.h"

extern "C" {

struct dfojph_image {
  uint32_t width;
  uint32_t height;
  uint32_t components;  // 1 or 3
  uint32_t bit_depth;   // 1-16
  int32_t is_signed;
  uint32_t bytes_per_sample;  // 1 or 2, little endian, samples of a pixel together
  const uint8_t* samples;     // height * width * components * bytes_per_sample bytes
};

struct dfojph_coding {
  int32_t reversible;        // 5/3 wavelet (and RCT) if nonzero, else 9/7 (and ICT)
  int32_t colour_transform;  // three components only
  uint32_t decompositions;
  float qstep;               // irreversible base step size (of a unit range)
  const char* progression;   // "LRCP", "RLCP", "RPCL", "PCRL" or "CPRL"
};

typedef size_t (*dfojph_write_fn)(void* user, const uint8_t* data, size_t len);

int dfojph_encode(const dfojph_image* image, const dfojph_coding* coding,
                  dfojph_write_fn write, void* user, char* err, size_t err_len);
}

namespace {

thread_local char last_error[512];

class quiet_info : public ojph::message_info {
 public:
  void operator()(int, const char*, int, const char*, ...) override {}
};

class quiet_warning : public ojph::message_warning {
 public:
  void operator()(int, const char*, int, const char*, ...) override {}
};

class throwing_error : public ojph::message_error {
 public:
  void operator()(int, const char*, int, const char* fmt, ...) override {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    throw std::runtime_error(last_error);
  }
};

quiet_info info_handler;
quiet_warning warning_handler;
throwing_error error_handler;
std::once_flag configured;

// The codestream's bytes go straight to the caller.
class sink : public ojph::outfile_base {
 public:
  sink(dfojph_write_fn write, void* user) : write_(write), user_(user), pos_(0) {}
  size_t write(const void* ptr, size_t size) override {
    size_t n = write_(user_, static_cast<const uint8_t*>(ptr), size);
    pos_ += static_cast<ojph::si64>(n);
    return n;
  }
  ojph::si64 tell() override { return pos_; }

 private:
  dfojph_write_fn write_;
  void* user_;
  ojph::si64 pos_;
};

void copy_message(const char* what, char* err, size_t err_len) {
  if (err == nullptr || err_len == 0) return;
  std::strncpy(err, what, err_len - 1);
  err[err_len - 1] = '\0';
}

// One row of component `c` into OpenJPH's line: masked to bit_depth, sign-extended
// when signed.
void fill_line(const dfojph_image* im, uint32_t row, uint32_t c, ojph::si32* dst) {
  const uint32_t bps = im->bytes_per_sample;
  const uint32_t stride = im->components * bps;
  const uint8_t* src = im->samples + (size_t)row * im->width * stride + (size_t)c * bps;
  const uint32_t shift = 32 - im->bit_depth;
  for (uint32_t x = 0; x < im->width; ++x, src += stride) {
    uint32_t raw = bps == 2 ? (uint32_t)src[0] | ((uint32_t)src[1] << 8) : (uint32_t)src[0];
    raw <<= shift;
    dst[x] = im->is_signed ? (ojph::si32)raw >> shift : (ojph::si32)(raw >> shift);
  }
}

}  // namespace

extern "C" int dfojph_encode(const dfojph_image* image, const dfojph_coding* coding,
                             dfojph_write_fn write, void* user, char* err, size_t err_len) {
  std::call_once(configured, [] {
    ojph::configure_info(&info_handler);
    ojph::configure_warning(&warning_handler);
    ojph::configure_error(&error_handler);
  });
  try {
    ojph::codestream cs;
    ojph::param_siz siz = cs.access_siz();
    siz.set_image_extent(ojph::point(image->width, image->height));
    siz.set_num_components(image->components);
    for (uint32_t c = 0; c < image->components; ++c)
      siz.set_component(c, ojph::point(1, 1), image->bit_depth, image->is_signed != 0);
    siz.set_image_offset(ojph::point(0, 0));
    siz.set_tile_size(ojph::size(image->width, image->height));
    siz.set_tile_offset(ojph::point(0, 0));
    ojph::param_cod cod = cs.access_cod();
    cod.set_num_decomposition(coding->decompositions);
    cod.set_block_dims(64, 64);
    cod.set_progression_order(coding->progression);
    cod.set_color_transform(image->components == 3 && coding->colour_transform != 0);
    cod.set_reversible(coding->reversible != 0);
    if (!coding->reversible) cs.access_qcd().set_irrev_quant(coding->qstep);
    cs.set_planar(false);
    sink out(write, user);
    cs.write_headers(&out);
    ojph::ui32 next = 0;
    ojph::line_buf* line = cs.exchange(nullptr, next);
    for (uint32_t row = 0; row < image->height; ++row) {
      for (uint32_t c = 0; c < image->components; ++c) {
        fill_line(image, row, next, line->i32);
        line = cs.exchange(line, next);
      }
    }
    cs.flush();
    cs.close();
    return 0;
  } catch (const std::exception& e) {
    copy_message(e.what(), err, err_len);
  } catch (...) {
    copy_message("OpenJPH failed", err, err_len);
  }
  return 1;
}
