#include "conditioner.h"

#include <cmath>

namespace i2s {

namespace {
// DC-blocker corner frequency. 10 Hz is far below speech and settles in ~16 ms (one time constant);
// at 16 kHz this is the familiar pole of about 0.996.
constexpr double kCornerHz = 10.0;
}  // namespace

Conditioner::Conditioner(const ConditionerSpec& spec)
    : spec_(spec), gain_(std::pow(10.0, spec.gainDb / 20.0)), pole_(std::exp(-2.0 * M_PI * kCornerHz / spec.rate)) {}

// One sample of the selected slot, scaled to 16-bit units (fraction kept for the filter).
double Conditioner::sampleAt(const void* in, size_t frame) const {
  size_t i = frame * spec_.channels + spec_.slot;
  if (spec_.format == SampleFormat::S32_LE) return static_cast<const int32_t*>(in)[i] / 65536.0;
  return static_cast<const int16_t*>(in)[i];
}

void Conditioner::process(const void* in, size_t frames, int16_t* out) {
  if (frames == 0) return;
  if (spec_.highPass && !seeded_) {
    // Seed the filter with this period's mean, as if the DC had always been there: a mic with a large
    // offset (SPH0645: about -6500) then produces no step at all instead of a loud decaying pop.
    double sum = 0.0;
    for (size_t f = 0; f < frames; f++) sum += sampleAt(in, f);
    prevIn_ = sum / frames;
    prevOut_ = 0.0;
    seeded_ = true;
  }
  for (size_t f = 0; f < frames; f++) {
    double x = sampleAt(in, f);
    double y = x;
    if (spec_.highPass) {
      y = x - prevIn_ + pole_ * prevOut_;
      prevIn_ = x;
      prevOut_ = y;
    }
    double v = std::nearbyint(y * gain_);
    if (v > 32767.0) v = 32767.0;
    if (v < -32768.0) v = -32768.0;
    out[f] = static_cast<int16_t>(v);
  }
}

}  // namespace i2s
