export {
  compressStream,
  compressionOfMediaType,
  decompressedStream,
  detectCompression,
  MAGIC_LENGTH,
  type CompressOptions,
  type Compression,
  type DecompressedStream,
} from './compression.js';
