// kAsan: whether AddressSanitizer instruments this build (TAPEGRAD_SANITIZE=address). Caching layers step
// aside then, because a block parked in a pool or a cache hides a use-after-free or an overflow from it.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define TAPEGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAPEGRAD_ASAN 1
#endif
#endif
#ifndef TAPEGRAD_ASAN
#define TAPEGRAD_ASAN 0
#endif

namespace tapegrad {
constexpr bool kAsan = TAPEGRAD_ASAN;
}  // namespace tapegrad
