// What the capture thread tells JavaScript, batched once per period.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alsa-device.h"

namespace i2s {

struct PacketOut {
  std::vector<uint8_t> data;
  uint32_t samples;  // real input samples in this packet (0 for pure end-padding)
};

struct CaptureEvent {
  enum class Kind { Packets, Pcm, End, Fault, Recovered, Eof };
  explicit CaptureEvent(Kind k) : kind(k) {}
  Kind kind;
  uint32_t recording = 0;
  std::vector<PacketOut> packets;       // Packets
  std::vector<int16_t> pcm;             // Pcm: the conditioned samples the encoder saw
  std::string reason;                   // End: stopped | eof | fault | closed
  uint64_t samples = 0;                 // End
  uint32_t packetCount = 0;             // End
  uint32_t xruns = 0;                   // End
  DeviceFailure failure;                // Fault
};

using EventBatch = std::vector<CaptureEvent>;

}  // namespace i2s
