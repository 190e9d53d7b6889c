// The capture thread's signal path after conditioning: settle, pre-roll ring, clip start/stop with
// tail, Opus encoding and end padding. Pure C++ (no ALSA, no N-API) so its rules stay in one place.
#pragma once

#include <memory>

#include "capture-events.h"
#include "opus-codec.h"
#include "pcm-ring.h"

namespace i2s {

struct EngineSpec {
  EncoderSpec encoder;
  size_t preRollSamples;
  size_t tailSamples;
  // A release after this much quiet ends the clip at once, without the tail: the tail exists to
  // catch a syllable still being spoken at release, and after a quiet stretch there is none.
  // 0 keeps the tail always.
  size_t quietSamples = 0;
  size_t settleSamples;
  bool pcmTap = false;
};

class CaptureEngine {
 public:
  explicit CaptureEngine(const EngineSpec& spec);

  // The device was (re)opened: the first settleSamples are dropped while the DC filter and the mic
  // itself (INMP441: ~250 ms at 16 kHz) settle, and the pre-roll restarts.
  void deviceOpened();
  void startRecording(uint32_t id, EventBatch& out);
  // Release: starts the tail, or (the speaker had already gone quiet) ends the recording now.
  void requestStop(EventBatch& out);
  // True when the last quietSamples of the recording were all quiet (see trailingQuiet in .cc).
  bool trailingQuiet() const;
  bool stopping() const { return stopping_; }
  // One period of conditioned mono samples.
  void feed(const int16_t* samples, size_t n, EventBatch& out);
  // Ends the current recording now (reason eof/fault/closed); packets are flushed only for eof.
  void abortRecording(const std::string& reason, EventBatch& out);
  bool recording() const { return active_; }
  void addXrun() { xruns_++; }
  int lookahead() const { return encoder_.lookahead(); }
  int frameSamples() const { return encoder_.frameSamples(); }

 private:
  void encodeSamples(const int16_t* samples, size_t n, EventBatch& out);
  void measure(const int16_t* samples, size_t n);
  void finish(const std::string& reason, bool flush, EventBatch& out);
  CaptureEvent& packetsEvent(EventBatch& out);

  EngineSpec spec_;
  OpusEncoderCore encoder_;
  PcmRing ring_;
  std::vector<int16_t> frame_;
  size_t frameFill_ = 0;
  size_t sinceOpen_ = 0;
  bool active_ = false;
  bool stopping_ = false;
  size_t tailLeft_ = 0;
  uint32_t id_ = 0;
  uint64_t samples_ = 0;
  uint32_t packets_ = 0;
  uint32_t xruns_ = 0;
  uint32_t xrunsAtStart_ = 0;
  // Loudness of the recording in blocks of one frame: mean squares of the last few blocks (a ring
  // covering quietSamples) and of the loudest block so far.
  std::vector<double> recentBlocks_;
  size_t recentNext_ = 0;
  size_t blocksSeen_ = 0;
  double blockSum_ = 0.0;
  size_t blockFill_ = 0;
  double loudest_ = 0.0;
};

}  // namespace i2s
