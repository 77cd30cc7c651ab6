export {
  compressStream,
  compressionOfMediaType,
  decompressedStream,
  detectCompression,
  MAGIC_LENGTH,
  readFileChunks,
  type CompressOptions,
  type Compression,
  type DecompressedStream,
} from './compression.js';
