// The speaker: decodes one clip's Opus packets and writes them to an ALSA playback PCM on a worker
// thread (an I2S amplifier such as the MAX98357A, the default device, or a file PCM in tests).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "alsa-device.h"

namespace i2s {

class Player : public Napi::ObjectWrap<Player> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Player(const Napi::CallbackInfo& info);

  void finished() { busy_ = false; }

 private:
  Napi::Value Play(const Napi::CallbackInfo& info);
  Napi::Value Interrupt(const Napi::CallbackInfo& info);

  PcmSpec spec_;
  bool pace_ = false;
  bool busy_ = false;
  std::shared_ptr<std::atomic<bool>> interrupt_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace i2s
