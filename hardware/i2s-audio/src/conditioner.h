// Turns one period of hardware frames into 16-bit mono: select the mic's slot, take the top bits of a
// 32-bit slot (I2S MEMS mics left-justify 18/24-bit data), remove DC, apply gain, clamp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alsa-device.h"

namespace i2s {

struct ConditionerSpec {
  SampleFormat format = SampleFormat::S16_LE;
  unsigned channels = 1;
  unsigned slot = 0;
  unsigned rate = 16000;
  double gainDb = 0.0;
  bool highPass = true;
};

class Conditioner {
 public:
  explicit Conditioner(const ConditionerSpec& spec);
  // Forgets the filter state; the next period seeds it (see process()).
  void reset() { seeded_ = false; }
  // in: `frames` interleaved hardware frames; out: `frames` mono samples.
  void process(const void* in, size_t frames, int16_t* out);

 private:
  double sampleAt(const void* in, size_t frame) const;

  ConditionerSpec spec_;
  double gain_;
  double pole_;
  double prevIn_ = 0.0;
  double prevOut_ = 0.0;
  bool seeded_ = false;
};

}  // namespace i2s
