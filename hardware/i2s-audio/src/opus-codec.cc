#include "opus-codec.h"

#include <stdexcept>

namespace i2s {

namespace {
// Largest packet libopus can produce for one frame (RFC 6716 s3.2.1 caps a frame at 1275 bytes).
constexpr int kMaxPacket = 1500;

[[noreturn]] void opusFail(const char* what, int err) {
  throw std::runtime_error(std::string("libopus: ") + what + ": " + opus_strerror(err));
}

Napi::Error codecError(Napi::Env env, const std::exception& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", "codec");
  return err;
}
}  // namespace

bool isOpusRate(int rate) {
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

OpusEncoderCore::OpusEncoderCore(const EncoderSpec& spec) : spec_(spec) {
  int err = OPUS_OK;
  enc_ = opus_encoder_create(spec.rate, 1, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK) opusFail("cannot create encoder", err);
  // VBR at the target bitrate, tuned for speech.
  if ((err = opus_encoder_ctl(enc_, OPUS_SET_BITRATE(spec.bitrate))) != OPUS_OK ||
      (err = opus_encoder_ctl(enc_, OPUS_SET_VBR(1))) != OPUS_OK ||
      (err = opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(spec.complexity))) != OPUS_OK ||
      (err = opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPUS_OK) {
    opus_encoder_destroy(enc_);
    opusFail("cannot configure encoder", err);
  }
}

OpusEncoderCore::~OpusEncoderCore() { opus_encoder_destroy(enc_); }

std::vector<uint8_t> OpusEncoderCore::encode(const int16_t* pcm) {
  std::vector<uint8_t> out(kMaxPacket);
  int n = opus_encode(enc_, pcm, frameSamples(), out.data(), kMaxPacket);
  if (n < 0) opusFail("encode failed", n);
  out.resize(n);
  return out;
}

void OpusEncoderCore::reset() { opus_encoder_ctl(enc_, OPUS_RESET_STATE); }

int OpusEncoderCore::lookahead() const {
  opus_int32 la = 0;
  opus_encoder_ctl(enc_, OPUS_GET_LOOKAHEAD(&la));
  return la;
}

OpusDecoderCore::OpusDecoderCore(int rate) : rate_(rate) {
  int err = OPUS_OK;
  dec_ = opus_decoder_create(rate, 1, &err);
  if (err != OPUS_OK) opusFail("cannot create decoder", err);
}

OpusDecoderCore::~OpusDecoderCore() { opus_decoder_destroy(dec_); }

void OpusDecoderCore::decode(const uint8_t* data, size_t len, std::vector<int16_t>& out) {
  // 120 ms is the longest Opus packet.
  out.resize(rate_ * 120 / 1000);
  int n = opus_decode(dec_, data, static_cast<opus_int32>(len), out.data(), static_cast<int>(out.size()), 0);
  if (n < 0) opusFail("decode failed (corrupt packet?)", n);
  out.resize(n);
}

void OpusDecoderCore::reset() { opus_decoder_ctl(dec_, OPUS_RESET_STATE); }

EncoderSpec readEncoderSpec(const Napi::Object& o, int defaultRate) {
  Napi::Env env = o.Env();
  EncoderSpec s;
  s.rate = defaultRate;
  if (o.Has("sampleRate") && o.Get("sampleRate").IsNumber()) s.rate = o.Get("sampleRate").As<Napi::Number>().Int32Value();
  if (o.Has("bitrate") && o.Get("bitrate").IsNumber()) s.bitrate = o.Get("bitrate").As<Napi::Number>().Int32Value();
  if (o.Has("complexity") && o.Get("complexity").IsNumber()) s.complexity = o.Get("complexity").As<Napi::Number>().Int32Value();
  if (!isOpusRate(s.rate)) throw Napi::RangeError::New(env, "Opus sample rate must be 8000, 12000, 16000, 24000 or 48000, got " + std::to_string(s.rate));
  if (s.bitrate < 6000 || s.bitrate > 64000) throw Napi::RangeError::New(env, "bitrate out of range: " + std::to_string(s.bitrate));
  if (s.complexity < 0 || s.complexity > 10) throw Napi::RangeError::New(env, "complexity must be 0..10, got " + std::to_string(s.complexity));
  return s;
}

Napi::Function Encoder::Define(Napi::Env env) {
  return DefineClass(env, "Encoder", {
      InstanceMethod<&Encoder::Encode>("encode"),
      InstanceMethod<&Encoder::Reset>("reset"),
      InstanceAccessor<&Encoder::Lookahead>("lookahead"),
      InstanceAccessor<&Encoder::FrameSamples>("frameSamples"),
  });
}

Encoder::Encoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Encoder>(info) {
  Napi::Object opts = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(info.Env());
  EncoderSpec spec = readEncoderSpec(opts, 16000);
  try {
    core_ = std::make_unique<OpusEncoderCore>(spec);
  } catch (const std::exception& e) {
    throw codecError(info.Env(), e);
  }
}

Napi::Value Encoder::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array)
    throw Napi::TypeError::New(env, "encode() takes an Int16Array");
  Napi::Int16Array pcm = info[0].As<Napi::Int16Array>();
  if (pcm.ElementLength() != static_cast<size_t>(core_->frameSamples()))
    throw Napi::RangeError::New(env, "encode() takes exactly " + std::to_string(core_->frameSamples()) + " samples (20 ms), got " + std::to_string(pcm.ElementLength()));
  try {
    std::vector<uint8_t> packet = core_->encode(pcm.Data());
    return Napi::Buffer<uint8_t>::Copy(env, packet.data(), packet.size());
  } catch (const std::exception& e) {
    throw codecError(env, e);
  }
}

Napi::Value Encoder::Reset(const Napi::CallbackInfo& info) {
  core_->reset();
  return info.Env().Undefined();
}

Napi::Value Encoder::Lookahead(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->lookahead()); }
Napi::Value Encoder::FrameSamples(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->frameSamples()); }

Napi::Function Decoder::Define(Napi::Env env) {
  return DefineClass(env, "Decoder", {
      InstanceMethod<&Decoder::Decode>("decode"),
      InstanceMethod<&Decoder::Reset>("reset"),
  });
}

Decoder::Decoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Decoder>(info) {
  Napi::Env env = info.Env();
  int rate = 16000;
  if (info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    if (o.Has("sampleRate")) rate = o.Get("sampleRate").As<Napi::Number>().Int32Value();
  }
  if (!isOpusRate(rate)) throw Napi::RangeError::New(env, "Opus sample rate must be 8000, 12000, 16000, 24000 or 48000, got " + std::to_string(rate));
  try {
    core_ = std::make_unique<OpusDecoderCore>(rate);
  } catch (const std::exception& e) {
    throw codecError(env, e);
  }
}

Napi::Value Decoder::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "decode() takes a Uint8Array packet");
  Napi::Uint8Array packet = info[0].As<Napi::Uint8Array>();
  if (packet.ElementLength() == 0) throw Napi::RangeError::New(env, "decode() got an empty packet");
  try {
    core_->decode(packet.Data(), packet.ElementLength(), scratch_);
  } catch (const std::exception& e) {
    throw codecError(env, e);
  }
  Napi::Int16Array out = Napi::Int16Array::New(env, scratch_.size());
  std::copy(scratch_.begin(), scratch_.end(), out.Data());
  return out;
}

Napi::Value Decoder::Reset(const Napi::CallbackInfo& info) {
  core_->reset();
  return info.Env().Undefined();
}

}  // namespace i2s
