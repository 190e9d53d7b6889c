// ALSA open/configure and error classification. The capture and playback objects share this.
#include "alsa-device.h"

#include <cerrno>

namespace i2s {

namespace {

std::string describe(const std::string& device, const char* what, int err) {
  return "ALSA device \"" + device + "\": " + what + ": " + snd_strerror(err);
}

// Loads the system configuration plus the caller's fragment into a private tree.
snd_config_t* loadConfig(const std::string& device, const std::string& fragment) {
  snd_config_t* top = nullptr;
  int err = snd_config_update_ref(&top);
  if (err < 0) throw DeviceException{{"config", describe(device, "cannot load the system ALSA configuration", err), err}};
  snd_config_t* copy = nullptr;
  err = snd_config_copy(&copy, top);
  snd_config_unref(top);
  if (err < 0) throw DeviceException{{"config", describe(device, "cannot copy the ALSA configuration", err), err}};
  snd_input_t* in = nullptr;
  err = snd_input_buffer_open(&in, fragment.data(), static_cast<ssize_t>(fragment.size()));
  if (err >= 0) {
    err = snd_config_load(copy, in);
    snd_input_close(in);
  }
  if (err < 0) {
    snd_config_delete(copy);
    throw DeviceException{{"config", describe(device, "the ALSA configuration fragment does not parse", err), err}};
  }
  return copy;
}

}  // namespace

size_t bytesPerSample(SampleFormat f) { return f == SampleFormat::S32_LE ? 4 : 2; }

DeviceFailure classifyOpenError(const std::string& device, int err) {
  switch (-err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return {"missing", describe(device, "cannot open (no such device)", err), err};
    case EBUSY:
    case EAGAIN:
      return {"busy", describe(device, "cannot open (in use by another program)", err), err};
    case EACCES:
    case EPERM:
      return {"permission", describe(device, "cannot open (permission denied; is the user in group audio?)", err), err};
    default:
      return {"missing", describe(device, "cannot open", err), err};
  }
}

DeviceFailure classifyRunError(const std::string& device, int err) {
  return {"unplugged", describe(device, "stopped working", err), err};
}

void AlsaPcm::open(const PcmSpec& spec, snd_pcm_stream_t stream) {
  close();
  snd_config_t* cfg = nullptr;
  if (!spec.config.empty()) cfg = loadConfig(spec.device, spec.config);
  // Non-blocking open so a device held by another program fails at once with EBUSY instead of
  // hanging the thread; the stream itself runs in blocking mode.
  int err = cfg ? snd_pcm_open_lconf(&pcm_, spec.device.c_str(), stream, SND_PCM_NONBLOCK, cfg)
                : snd_pcm_open(&pcm_, spec.device.c_str(), stream, SND_PCM_NONBLOCK);
  if (err < 0) {
    pcm_ = nullptr;
    if (cfg) snd_config_delete(cfg);
    throw DeviceException{classifyOpenError(spec.device, err)};
  }
  config_ = cfg;
  snd_pcm_nonblock(pcm_, 0);

  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  auto fail = [&](const char* what, int e) {
    DeviceFailure f{"format", describe(spec.device, what, e), e};
    close();
    throw DeviceException{f};
  };
  if ((err = snd_pcm_hw_params_any(pcm_, hw)) < 0) fail("no hardware configuration", err);
  if ((err = snd_pcm_hw_params_set_access(pcm_, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) fail("interleaved access not supported", err);
  snd_pcm_format_t fmt = spec.format == SampleFormat::S32_LE ? SND_PCM_FORMAT_S32_LE : SND_PCM_FORMAT_S16_LE;
  if ((err = snd_pcm_hw_params_set_format(pcm_, hw, fmt)) < 0)
    fail(spec.format == SampleFormat::S32_LE ? "format S32_LE not supported" : "format S16_LE not supported", err);
  if ((err = snd_pcm_hw_params_set_channels(pcm_, hw, spec.channels)) < 0) fail("channel count not supported", err);
  if ((err = snd_pcm_hw_params_set_rate_resample(pcm_, hw, spec.resample ? 1 : 0)) < 0) fail("cannot set resampling", err);
  if ((err = snd_pcm_hw_params_set_rate(pcm_, hw, spec.rate, 0)) < 0) fail("sample rate not supported", err);
  snd_pcm_uframes_t period = spec.periodFrames;
  int dir = 0;
  if ((err = snd_pcm_hw_params_set_period_size_near(pcm_, hw, &period, &dir)) < 0) fail("period size not supported", err);
  snd_pcm_uframes_t buffer = period * spec.periods;
  if ((err = snd_pcm_hw_params_set_buffer_size_near(pcm_, hw, &buffer)) < 0) fail("buffer size not supported", err);
  if ((err = snd_pcm_hw_params(pcm_, hw)) < 0) fail("cannot apply the hardware configuration", err);
  snd_pcm_hw_params_get_period_size(hw, &period, &dir);
  periodFrames_ = period;
  if ((err = snd_pcm_prepare(pcm_)) < 0) fail("cannot prepare the device", err);
}

void AlsaPcm::close() {
  if (pcm_) snd_pcm_close(pcm_);
  pcm_ = nullptr;
  if (config_) snd_config_delete(config_);
  config_ = nullptr;
}

Napi::Object failureToObject(Napi::Env env, const DeviceFailure& failure) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", failure.code);
  o.Set("message", failure.message);
  o.Set("errno", Napi::Number::New(env, failure.err));
  o.Set("alsaMessage", failure.err ? snd_strerror(failure.err) : "");
  return o;
}

Napi::Error toJsError(Napi::Env env, const DeviceFailure& failure) {
  Napi::Error e = Napi::Error::New(env, failure.message);
  e.Set("code", failure.code);
  e.Set("errno", Napi::Number::New(env, failure.err));
  e.Set("alsaMessage", failure.err ? snd_strerror(failure.err) : "");
  return e;
}

PcmSpec readPcmSpec(const Napi::Object& o) {
  Napi::Env env = o.Env();
  PcmSpec s;
  if (o.Has("device")) s.device = o.Get("device").As<Napi::String>().Utf8Value();
  if (o.Has("config") && o.Get("config").IsString()) s.config = o.Get("config").As<Napi::String>().Utf8Value();
  if (o.Has("format")) {
    std::string f = o.Get("format").As<Napi::String>().Utf8Value();
    if (f == "S16_LE") s.format = SampleFormat::S16_LE;
    else if (f == "S32_LE") s.format = SampleFormat::S32_LE;
    else throw Napi::TypeError::New(env, "format must be S16_LE or S32_LE, got " + f);
  }
  if (o.Has("channels")) s.channels = o.Get("channels").As<Napi::Number>().Uint32Value();
  if (o.Has("rate")) s.rate = o.Get("rate").As<Napi::Number>().Uint32Value();
  if (o.Has("resample")) s.resample = o.Get("resample").ToBoolean();
  if (o.Has("periodFrames")) s.periodFrames = o.Get("periodFrames").As<Napi::Number>().Uint32Value();
  if (s.channels < 1 || s.channels > 2) throw Napi::RangeError::New(env, "channels must be 1 or 2");
  if (s.periodFrames < 16) throw Napi::RangeError::New(env, "periodFrames must be at least 16");
  return s;
}

}  // namespace i2s
