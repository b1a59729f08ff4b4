// Ethernet frames for the C++ testbenches: the software CRC-32 (IEEE 802.3, reflected 0xEDB88320), the
// Internet checksum and the reference UDP frame that the Rust traffic generator reproduces byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace nic {

// ---------------------------------------------------------------------------------------------------
// Traffic: the reference frame, reproduced byte for byte by the Rust side
// ---------------------------------------------------------------------------------------------------
using Bytes = std::vector<uint8_t>;
const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

inline uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc;
}

inline uint16_t inet_csum(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (n & 1) sum += p[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

inline void append_fcs(Bytes& f) {
    uint32_t fcs = ~crc32_update(0xFFFFFFFFu, f.data(), f.size());
    for (int i = 0; i < 4; i++) f.push_back(static_cast<uint8_t>(fcs >> (8 * i)));  // LSB first
}

// UDP/IPv4 frame of `frame_len` bytes including FCS (>= 46): dst `dst`, src 02:00:00:00:00:02,
// 10.0.0.2 -> 10.0.0.1, UDP 5000 -> 9000, IPv4 id 0, DF clear, TTL 64, payload zeros, both checksums
// valid. For frame_len = 64 (18 payload bytes) the 64 bytes are (`cpp_harness --print-frame`):
//   02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 2e 00 00 00 00 40 11 66 bd 0a 00 00 02
//   0a 00 00 01 13 88 23 28 00 1a b5 07, 18 x 00, FCS b0 b8 5e 0f
inline Bytes udp_frame(size_t frame_len, const uint8_t dst[6] = OUR_MAC) {
    const size_t ip_len = frame_len - 4 - 14;
    const size_t udp_len = ip_len - 20;
    Bytes f(frame_len - 4, 0);
    memcpy(&f[0], dst, 6);
    memcpy(&f[6], PEER_MAC, 6);
    f[12] = 0x08;
    uint8_t* ip = &f[14];
    ip[0] = 0x45;
    ip[2] = ip_len >> 8, ip[3] = ip_len & 0xFF;
    ip[8] = 64, ip[9] = 17;
    const uint8_t src_ip[4] = {10, 0, 0, 2}, dst_ip[4] = {10, 0, 0, 1};
    memcpy(ip + 12, src_ip, 4);
    memcpy(ip + 16, dst_ip, 4);
    uint16_t c = inet_csum(ip, 20);
    ip[10] = c >> 8, ip[11] = c & 0xFF;
    uint8_t* udp = ip + 20;
    udp[0] = 5000 >> 8, udp[1] = 5000 & 0xFF, udp[2] = 9000 >> 8, udp[3] = 9000 & 0xFF;
    udp[4] = udp_len >> 8, udp[5] = udp_len & 0xFF;
    uint32_t pseudo = (10 << 8) + 2 + (10 << 8) + 1 + 17 + static_cast<uint32_t>(udp_len);
    c = inet_csum(udp, udp_len, pseudo);
    if (c == 0) c = 0xFFFF;
    udp[6] = c >> 8, udp[7] = c & 0xFF;
    append_fcs(f);
    return f;
}

}  // namespace nic
