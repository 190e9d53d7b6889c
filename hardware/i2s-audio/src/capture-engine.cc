#include "capture-engine.h"

#include <algorithm>

namespace i2s {

namespace {

// Quiet means every block at least 30 dB under the loudest block of this recording (speech
// against the room), or under -60 dBFS whatever the recording (near digital silence). A trailing
// fricative ("...yes") sits 20-30 dB under its vowel, but the vowel is in the same window, so a
// word still being said is never quiet.
constexpr double kQuietBelowLoudest = 1e-3;                        // -30 dB in power
constexpr double kQuietFloor = 32768.0 * 32768.0 * 1e-6;           // -60 dBFS in power

}  // namespace

CaptureEngine::CaptureEngine(const EngineSpec& spec)
    : spec_(spec), encoder_(spec.encoder), ring_(spec.preRollSamples), frame_(encoder_.frameSamples(), 0) {
  const size_t block = frame_.size();
  if (spec_.quietSamples > 0) recentBlocks_.assign((spec_.quietSamples + block - 1) / block, 0.0);
}

void CaptureEngine::deviceOpened() {
  sinceOpen_ = 0;
  ring_.clear();
}

void CaptureEngine::startRecording(uint32_t id, EventBatch& out) {
  encoder_.reset();
  std::fill(frame_.begin(), frame_.end(), 0);
  frameFill_ = 0;
  active_ = true;
  stopping_ = false;
  id_ = id;
  samples_ = 0;
  packets_ = 0;
  xrunsAtStart_ = xruns_;
  std::fill(recentBlocks_.begin(), recentBlocks_.end(), 0.0);
  recentNext_ = 0;
  blocksSeen_ = 0;
  blockSum_ = 0.0;
  blockFill_ = 0;
  loudest_ = 0.0;
  // The clip starts with the pre-roll: the audio heard just before the press.
  std::vector<int16_t> pre;
  pre.reserve(ring_.size());
  ring_.drain([&](int16_t s) { pre.push_back(s); });
  if (!pre.empty()) encodeSamples(pre.data(), pre.size(), out);
}

void CaptureEngine::requestStop(EventBatch& out) {
  if (!active_ || stopping_) return;
  if (spec_.tailSamples == 0 || trailingQuiet()) return finish("stopped", true, out);
  stopping_ = true;
  tailLeft_ = spec_.tailSamples;
}

bool CaptureEngine::trailingQuiet() const {
  if (!active_ || recentBlocks_.empty() || blocksSeen_ < recentBlocks_.size()) return false;
  const double limit = std::max(loudest_ * kQuietBelowLoudest, kQuietFloor);
  for (double ms : recentBlocks_)
    if (ms > limit) return false;
  // The block still filling is the newest audio of all.
  if (blockFill_ > 0 && blockSum_ / static_cast<double>(blockFill_) > limit) return false;
  return true;
}

void CaptureEngine::measure(const int16_t* samples, size_t n) {
  if (recentBlocks_.empty()) return;
  const size_t block = frame_.size();
  for (size_t i = 0; i < n; i++) {
    const double s = samples[i];
    blockSum_ += s * s;
    if (++blockFill_ < block) continue;
    const double ms = blockSum_ / static_cast<double>(block);
    loudest_ = std::max(loudest_, ms);
    recentBlocks_[recentNext_] = ms;
    recentNext_ = (recentNext_ + 1) % recentBlocks_.size();
    blocksSeen_++;
    blockSum_ = 0.0;
    blockFill_ = 0;
  }
}

void CaptureEngine::feed(const int16_t* samples, size_t n, EventBatch& out) {
  if (sinceOpen_ < spec_.settleSamples) {
    // Still settling: these samples never reach the ring or a clip.
    size_t skip = std::min(n, spec_.settleSamples - sinceOpen_);
    sinceOpen_ += skip;
    samples += skip;
    n -= skip;
    if (n == 0) return;
  }
  sinceOpen_ += n;
  if (!active_) {
    ring_.push(samples, n);
    return;
  }
  if (stopping_) {
    size_t take = std::min(n, tailLeft_);
    encodeSamples(samples, take, out);
    tailLeft_ -= take;
    if (tailLeft_ == 0) finish("stopped", true, out);
    return;
  }
  encodeSamples(samples, n, out);
}

void CaptureEngine::abortRecording(const std::string& reason, EventBatch& out) {
  if (active_) finish(reason, reason == "eof", out);
}

CaptureEvent& CaptureEngine::packetsEvent(EventBatch& out) {
  if (out.empty() || out.back().kind != CaptureEvent::Kind::Packets || out.back().recording != id_) {
    CaptureEvent e{CaptureEvent::Kind::Packets};
    e.recording = id_;
    out.push_back(std::move(e));
  }
  return out.back();
}

void CaptureEngine::encodeSamples(const int16_t* samples, size_t n, EventBatch& out) {
  if (n == 0) return;
  if (spec_.pcmTap) {
    CaptureEvent e{CaptureEvent::Kind::Pcm};
    e.recording = id_;
    e.pcm.assign(samples, samples + n);
    out.push_back(std::move(e));
  }
  samples_ += n;
  measure(samples, n);
  const size_t frameSize = frame_.size();
  while (n > 0) {
    size_t take = std::min(n, frameSize - frameFill_);
    std::copy(samples, samples + take, frame_.begin() + frameFill_);
    frameFill_ += take;
    samples += take;
    n -= take;
    if (frameFill_ == frameSize) {
      packetsEvent(out).packets.push_back({encoder_.encode(frame_.data()), static_cast<uint32_t>(frameSize)});
      packets_++;
      frameFill_ = 0;
    }
  }
}

void CaptureEngine::finish(const std::string& reason, bool flush, EventBatch& out) {
  if (flush) {
    // Pad with silence until the packets cover every real sample plus the encoder's lookahead, so a
    // decoder that skips pre-skip still gets the whole clip out (RFC 7845 end trimming needs it).
    const size_t frameSize = frame_.size();
    const uint64_t needed = samples_ + static_cast<uint64_t>(encoder_.lookahead());
    size_t real = frameFill_;
    while (static_cast<uint64_t>(packets_) * frameSize < needed) {
      std::fill(frame_.begin() + frameFill_, frame_.end(), 0);
      packetsEvent(out).packets.push_back({encoder_.encode(frame_.data()), static_cast<uint32_t>(real)});
      packets_++;
      frameFill_ = 0;
      real = 0;
    }
  }
  CaptureEvent e{CaptureEvent::Kind::End};
  e.recording = id_;
  e.reason = reason;
  e.samples = samples_;
  e.packetCount = packets_;
  e.xruns = xruns_ - xrunsAtStart_;
  out.push_back(std::move(e));
  active_ = false;
  stopping_ = false;
  frameFill_ = 0;
  // A clip that starts right after this one must not replay audio this one already carried.
  ring_.clear();
}

}  // namespace i2s
