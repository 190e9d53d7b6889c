// i2s-audio: Torlk's native audio. Exports Capture (microphone), Player (speaker), Encoder, Decoder.
#include <alsa/asoundlib.h>
#include <napi.h>
#include <opus/opus.h>

#include "capture.h"
#include "opus-codec.h"
#include "player.h"

namespace {

// alsa-lib prints its own diagnostics to stderr; the firmware's logs are structured JSON, and every
// failure already reaches JS with snd_strerror's text, so keep alsa-lib quiet.
void quietAlsa(const char*, int, const char*, int, const char*, ...) {}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  snd_lib_error_set_handler(quietAlsa);
  exports.Set("Capture", i2s::Capture::Define(env));
  exports.Set("Player", i2s::Player::Define(env));
  exports.Set("Encoder", i2s::Encoder::Define(env));
  exports.Set("Decoder", i2s::Decoder::Define(env));
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("alsa", snd_asoundlib_version());
  versions.Set("opus", opus_get_version_string());
  exports.Set("versions", versions);
  return exports;
}

}  // namespace

NODE_API_MODULE(i2s_audio, Init)
