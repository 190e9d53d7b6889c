#include "player.h"

#include <time.h>

#include <algorithm>
#include <vector>

#include "opus-codec.h"

namespace i2s {

namespace {

struct ClipSpec {
  int inputRate = 16000;
  uint64_t preSkip48k = 0;
  uint64_t totalSamples = 0;  // at inputRate; 0 = play everything decoded
};

class PlayWorker : public Napi::AsyncWorker {
 public:
  PlayWorker(Napi::Env env, Player* player, Napi::Object self, PcmSpec spec, bool pace, ClipSpec clip,
             std::vector<std::vector<uint8_t>> packets, std::shared_ptr<std::atomic<bool>> interrupt)
      : Napi::AsyncWorker(env, "i2s-audio playback"), deferred_(Napi::Promise::Deferred::New(env)), player_(player),
        spec_(std::move(spec)), pace_(pace), clip_(clip), packets_(std::move(packets)), interrupt_(std::move(interrupt)) {
    self_ = Napi::Persistent(self);  // keep the Player alive while its clip plays
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      pcm_.open(spec_, SND_PCM_STREAM_PLAYBACK);
      playAll();
      if (interrupted_) snd_pcm_drop(pcm_.handle());
      else snd_pcm_drain(pcm_.handle());
    } catch (const DeviceException& e) {
      failure_ = e.failure;
    } catch (const std::exception& e) {
      failure_ = {"codec", e.what(), 0};
    }
    pcm_.close();
    if (!failure_.code.empty()) SetError(failure_.message);
  }

  void OnOK() override {
    player_->finished();
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("samples", Napi::Number::New(env, static_cast<double>(played_)));
    r.Set("interrupted", Napi::Boolean::New(env, interrupted_));
    r.Set("underruns", Napi::Number::New(env, underruns_));
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error&) override {
    player_->finished();
    deferred_.Reject(toJsError(Env(), failure_).Value());
  }

 private:
  void playAll() {
    const int rate = static_cast<int>(spec_.rate);
    OpusDecoderCore decoder(rate);  // Opus decodes any stream at any of its rates
    uint64_t skip = clip_.preSkip48k * rate / 48000;
    uint64_t left = clip_.totalSamples ? clip_.totalSamples * rate / clip_.inputRate : UINT64_MAX;
    std::vector<int16_t> pcm;
    clock_gettime(CLOCK_MONOTONIC, &start_);
    for (const auto& packet : packets_) {
      if (interrupt_->load()) {
        interrupted_ = true;
        return;
      }
      decoder.decode(packet.data(), packet.size(), pcm);
      size_t from = static_cast<size_t>(std::min<uint64_t>(skip, pcm.size()));
      skip -= from;
      size_t n = static_cast<size_t>(std::min<uint64_t>(pcm.size() - from, left));
      left -= n;
      write(pcm.data() + from, n);
      if (left == 0) break;
    }
  }

  // Converts mono 16-bit to the device layout and writes it, recovering underruns.
  void write(const int16_t* mono, size_t n) {
    if (n == 0) return;
    const size_t ch = spec_.channels;
    std::vector<uint8_t> buf(n * ch * bytesPerSample(spec_.format));
    for (size_t i = 0; i < n; i++)
      for (size_t c = 0; c < ch; c++) {
        if (spec_.format == SampleFormat::S32_LE) reinterpret_cast<int32_t*>(buf.data())[i * ch + c] = static_cast<int32_t>(mono[i]) * 65536;
        else reinterpret_cast<int16_t*>(buf.data())[i * ch + c] = mono[i];
      }
    const size_t frameBytes = ch * bytesPerSample(spec_.format);
    size_t done = 0;
    while (done < n) {
      snd_pcm_sframes_t r = snd_pcm_writei(pcm_.handle(), buf.data() + done * frameBytes, n - done);
      if (r == -EPIPE || r == -ESTRPIPE || r == -EINTR) {
        if (r == -EPIPE) underruns_++;
        int rr = snd_pcm_recover(pcm_.handle(), static_cast<int>(r), 1);
        if (rr < 0) throw DeviceException{classifyRunError(spec_.device, rr)};
        continue;
      }
      if (r < 0) throw DeviceException{classifyRunError(spec_.device, static_cast<int>(r))};
      done += static_cast<size_t>(r);
      played_ += static_cast<uint64_t>(r);
    }
    if (pace_) {
      // A file PCM accepts samples instantly; pace to real time so interruption can be tested.
      uint64_t ns = played_ * 1000000000ull / spec_.rate;
      struct timespec at = start_;
      at.tv_sec += static_cast<time_t>(ns / 1000000000ull);
      at.tv_nsec += static_cast<long>(ns % 1000000000ull);
      if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
      }
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
    }
  }

  Napi::Promise::Deferred deferred_;
  Player* player_;
  Napi::ObjectReference self_;
  PcmSpec spec_;
  bool pace_;
  ClipSpec clip_;
  std::vector<std::vector<uint8_t>> packets_;
  std::shared_ptr<std::atomic<bool>> interrupt_;
  AlsaPcm pcm_;
  DeviceFailure failure_;
  struct timespec start_ {};
  uint64_t played_ = 0;
  uint32_t underruns_ = 0;
  bool interrupted_ = false;
};

}  // namespace

Napi::Function Player::Define(Napi::Env env) {
  return DefineClass(env, "Player", {
      InstanceMethod<&Player::Play>("play"),
      InstanceMethod<&Player::Interrupt>("interrupt"),
  });
}

Player::Player(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Player>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Player takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  spec_ = readPcmSpec(o);
  if (!o.Has("periodFrames")) spec_.periodFrames = spec_.rate / 50;
  if (!isOpusRate(static_cast<int>(spec_.rate)))
    throw Napi::RangeError::New(env, "playback rate must be an Opus rate (8000, 12000, 16000, 24000, 48000), got " + std::to_string(spec_.rate));
  pace_ = o.Has("pace") && o.Get("pace").ToBoolean();
}

// play(packets: Uint8Array[], clip: {inputRate, preSkip, totalSamples}) -> Promise<{samples, interrupted}>
Napi::Value Player::Play(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw Napi::Error::New(env, "the speaker is already playing a clip");
  if (!info[0].IsArray() || !info[1].IsObject()) throw Napi::TypeError::New(env, "play(packets[], clip) expected");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<std::vector<uint8_t>> packets;
  packets.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "packet " + std::to_string(i) + " is not a Uint8Array");
    Napi::Uint8Array p = v.As<Napi::Uint8Array>();
    if (p.ElementLength() == 0) throw Napi::RangeError::New(env, "packet " + std::to_string(i) + " is empty");
    packets.emplace_back(p.Data(), p.Data() + p.ElementLength());
  }
  Napi::Object c = info[1].As<Napi::Object>();
  ClipSpec clip;
  clip.inputRate = c.Get("inputRate").As<Napi::Number>().Int32Value();
  clip.preSkip48k = static_cast<uint64_t>(c.Get("preSkip").As<Napi::Number>().Int64Value());
  clip.totalSamples = static_cast<uint64_t>(c.Get("totalSamples").As<Napi::Number>().Int64Value());
  if (!isOpusRate(clip.inputRate)) throw Napi::RangeError::New(env, "clip inputRate must be an Opus rate");
  interrupt_->store(false);
  busy_ = true;
  auto* worker = new PlayWorker(env, this, Value(), spec_, pace_, clip, std::move(packets), interrupt_);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value Player::Interrupt(const Napi::CallbackInfo& info) {
  interrupt_->store(true);
  return info.Env().Undefined();
}

}  // namespace i2s
