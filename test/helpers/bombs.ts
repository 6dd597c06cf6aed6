/**
 * Declared-length bombs: MessagePack headers that declare far more than
 * follows them. Ten bytes of array32 once cost a server 256 MiB.
 */

export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
export const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff]

/** Every kind of declared length, each declaring far more than follows it. */
export const BOMBS: Readonly<Record<string, readonly number[]>> = {
  array16: [0xdc, ...u16(0xffff)],
  array32: [0xdd, ...u32(0x01ffffff)],
  map16: [0xde, ...u16(0xffff)],
  map32: [0xdf, ...u32(0x01ffffff)],
  str8: [0xd9, 0xff, 0x61],
  str16: [0xda, ...u16(0xffff)],
  str32: [0xdb, ...u32(0xffffffff)],
  bin8: [0xc4, 0xff],
  bin16: [0xc5, ...u16(0xffff)],
  bin32: [0xc6, ...u32(0xffffffff)],
  ext8: [0xc7, 0xff, 0x01],
  ext16: [0xc8, ...u16(0xffff), 0x01],
  ext32: [0xc9, ...u32(0xffffffff), 0x01],
  fixarray: [0x9f, 0x01],
  fixmap: [0x8f, 0x01, 0x02],
  fixstr: [0xbf, 0x61],
  // Nested: a valid array whose second element is the bomb.
  'array32 nested': [0x92, 0x01, 0xdd, ...u32(0x01ffffff)],
}
