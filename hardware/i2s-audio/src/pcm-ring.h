// A fixed-size ring of mono samples: the pre-roll, i.e. the most recent audio heard while idle.
#pragma once

#include <cstdint>
#include <vector>

namespace i2s {

class PcmRing {
 public:
  explicit PcmRing(size_t capacity) : buf_(capacity, 0) {}

  void push(const int16_t* samples, size_t n) {
    if (buf_.empty()) return;
    for (size_t i = 0; i < n; i++) {
      buf_[(start_ + size_) % buf_.size()] = samples[i];
      if (size_ < buf_.size()) size_++;
      else start_ = (start_ + 1) % buf_.size();
    }
  }

  // Oldest first.
  template <typename Fn>
  void drain(Fn&& fn) {
    for (size_t i = 0; i < size_; i++) fn(buf_[(start_ + i) % buf_.size()]);
    clear();
  }

  void clear() { start_ = size_ = 0; }
  size_t size() const { return size_; }

 private:
  std::vector<int16_t> buf_;
  size_t start_ = 0;
  size_t size_ = 0;
};

}  // namespace i2s
