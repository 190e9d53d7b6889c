# The i2s-audio addon: ALSA capture/playback and libopus, linked against the system libraries so a
# cross build (node-gyp --arch with Debian's multiarch g++) picks the target's libasound and libopus.
{
  "targets": [
    {
      "target_name": "i2s-audio",
      "sources": [
        "src/addon.cc",
        "src/alsa-device.cc",
        "src/conditioner.cc",
        "src/opus-codec.cc",
        "src/capture.cc",
        "src/capture-engine.cc",
        "src/capture-events.cc",
        "src/player.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lasound", "-lopus", "-lpthread"]
    }
  ]
}
