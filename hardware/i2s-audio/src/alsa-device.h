// Opening and configuring one ALSA PCM, and turning ALSA failures into errors JS can classify.
#pragma once

#include <alsa/asoundlib.h>
#include <napi.h>

#include <string>

namespace i2s {

enum class SampleFormat { S16_LE, S32_LE };

struct PcmSpec {
  std::string device = "default";
  // An ALSA configuration fragment loaded on top of the system config for this PCM only
  // (snd_pcm_open_lconf), so tests and the simulator need no ALSA_CONFIG_PATH or ~/.asoundrc.
  std::string config;
  SampleFormat format = SampleFormat::S16_LE;
  unsigned channels = 1;
  unsigned rate = 16000;
  snd_pcm_uframes_t periodFrames = 320;
  unsigned periods = 8;
  // Let a plug-type PCM (e.g. `default` on a laptop) resample to the rate asked for. Off for an I2S
  // device opened through plughw when the rate must be exact; hw: devices never resample anyway.
  bool resample = true;
};

// What went wrong, in words the firmware maps to the hardware-fault pattern.
// missing: no such device; busy: another process holds it; unplugged: it failed while running;
// format: it cannot do the format/rate/channels asked for; config: the ALSA config fragment is bad.
struct DeviceFailure {
  std::string code;
  std::string message;
  int err = 0;  // negative errno from ALSA
};

// Thrown from the worker side (no napi_env there); converted to a JS error on the main thread.
struct DeviceException {
  DeviceFailure failure;
};

// An open PCM together with the config tree it was opened from (kept alive until close, because the
// PCM may refer to it).
class AlsaPcm {
 public:
  AlsaPcm() = default;
  AlsaPcm(const AlsaPcm&) = delete;
  AlsaPcm& operator=(const AlsaPcm&) = delete;
  ~AlsaPcm() { close(); }

  // Opens and configures the PCM (blocking mode afterwards). Throws DeviceException.
  void open(const PcmSpec& spec, snd_pcm_stream_t stream);
  void close();
  snd_pcm_t* handle() const { return pcm_; }
  snd_pcm_uframes_t periodFrames() const { return periodFrames_; }

 private:
  snd_pcm_t* pcm_ = nullptr;
  snd_config_t* config_ = nullptr;
  snd_pcm_uframes_t periodFrames_ = 0;
};

// Classifies an ALSA error code returned by snd_pcm_open (opening) or by read/write (running).
DeviceFailure classifyOpenError(const std::string& device, int err);
DeviceFailure classifyRunError(const std::string& device, int err);

Napi::Error toJsError(Napi::Env env, const DeviceFailure& failure);
Napi::Object failureToObject(Napi::Env env, const DeviceFailure& failure);

// Reads the PCM options shared by capture and playback from a JS object.
PcmSpec readPcmSpec(const Napi::Object& opts);

size_t bytesPerSample(SampleFormat f);

}  // namespace i2s
