// libopus, configured the way Torlk speaks: mono, VOIP, voice signal, VBR, 20 ms frames.
// The core classes are used by the capture thread; Encoder/Decoder expose them to JS for tools and
// tests that work without ALSA (e.g. `torlk seal in.wav`).
#pragma once

#include <napi.h>
#include <opus/opus.h>

#include <cstdint>
#include <string>
#include <vector>

namespace i2s {

struct EncoderSpec {
  int rate = 16000;
  int bitrate = 16000;
  int complexity = 5;
};

// Throws std::runtime_error with libopus's message on failure.
class OpusEncoderCore {
 public:
  explicit OpusEncoderCore(const EncoderSpec& spec);
  ~OpusEncoderCore();
  OpusEncoderCore(const OpusEncoderCore&) = delete;
  OpusEncoderCore& operator=(const OpusEncoderCore&) = delete;

  // Encodes exactly frameSamples() samples.
  std::vector<uint8_t> encode(const int16_t* pcm);
  void reset();
  int frameSamples() const { return spec_.rate / 50; }
  int lookahead() const;
  const EncoderSpec& spec() const { return spec_; }

 private:
  EncoderSpec spec_;
  OpusEncoder* enc_ = nullptr;
};

class OpusDecoderCore {
 public:
  explicit OpusDecoderCore(int rate);
  ~OpusDecoderCore();
  OpusDecoderCore(const OpusDecoderCore&) = delete;
  OpusDecoderCore& operator=(const OpusDecoderCore&) = delete;

  // Decodes one packet into `out` (resized to the decoded sample count).
  void decode(const uint8_t* data, size_t len, std::vector<int16_t>& out);
  void reset();
  int rate() const { return rate_; }

 private:
  int rate_;
  OpusDecoder* dec_ = nullptr;
};

bool isOpusRate(int rate);
EncoderSpec readEncoderSpec(const Napi::Object& opts, int defaultRate);

class Encoder : public Napi::ObjectWrap<Encoder> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Encoder(const Napi::CallbackInfo& info);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Lookahead(const Napi::CallbackInfo& info);
  Napi::Value FrameSamples(const Napi::CallbackInfo& info);
  std::unique_ptr<OpusEncoderCore> core_;
};

class Decoder : public Napi::ObjectWrap<Decoder> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Decoder(const Napi::CallbackInfo& info);

 private:
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  std::unique_ptr<OpusDecoderCore> core_;
  std::vector<int16_t> scratch_;
};

}  // namespace i2s
