import { describe, expect, it } from 'vitest';
import {
  DOCKER_MEDIA_TYPES,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  isSchema1MediaType,
  layerCompression,
  OCI_MEDIA_TYPES,
  ociLayerMediaType,
  toDockerMediaType,
  toOciMediaType,
} from './media-types.js';

describe('media types', () => {
  it('classifies manifests, indexes and configs of both families', () => {
    expect(isManifestMediaType(OCI_MEDIA_TYPES.manifest)).toBe(true);
    expect(isManifestMediaType(DOCKER_MEDIA_TYPES.manifest)).toBe(true);
    expect(isManifestMediaType(OCI_MEDIA_TYPES.index)).toBe(false);
    expect(isIndexMediaType(OCI_MEDIA_TYPES.index)).toBe(true);
    expect(isIndexMediaType(`${DOCKER_MEDIA_TYPES.manifestList}; charset=utf-8`)).toBe(true);
    expect(isConfigMediaType(DOCKER_MEDIA_TYPES.config)).toBe(true);
    expect(isSchema1MediaType(DOCKER_MEDIA_TYPES.manifestV1Signed)).toBe(true);
    expect(isSchema1MediaType(DOCKER_MEDIA_TYPES.manifest)).toBe(false);
  });

  it.each([
    [OCI_MEDIA_TYPES.layer, 'none', false],
    [OCI_MEDIA_TYPES.layerGzip, 'gzip', false],
    [OCI_MEDIA_TYPES.layerZstd, 'zstd', false],
    [OCI_MEDIA_TYPES.layerNonDistributable, 'none', true],
    [OCI_MEDIA_TYPES.layerNonDistributableGzip, 'gzip', true],
    [OCI_MEDIA_TYPES.layerNonDistributableZstd, 'zstd', true],
    [DOCKER_MEDIA_TYPES.layer, 'none', false],
    [DOCKER_MEDIA_TYPES.layerGzip, 'gzip', false],
    [DOCKER_MEDIA_TYPES.layerZstd, 'zstd', false],
    [DOCKER_MEDIA_TYPES.foreignLayer, 'none', true],
    [DOCKER_MEDIA_TYPES.foreignLayerGzip, 'gzip', true],
  ] as const)('%s is a %s layer (non-distributable: %s)', (type, compression, foreign) => {
    expect(isLayerMediaType(type)).toBe(true);
    expect(layerCompression(type)).toBe(compression);
    expect(isNonDistributableMediaType(type)).toBe(foreign);
  });

  it('refuses to guess the compression of a non-layer', () => {
    expect(isLayerMediaType(OCI_MEDIA_TYPES.config)).toBe(false);
    expect(() => layerCompression('application/octet-stream')).toThrow(/not a layer media type/);
  });

  it('maps Docker types to OCI and back; unknown types pass through', () => {
    expect(toOciMediaType(DOCKER_MEDIA_TYPES.manifestList)).toBe(OCI_MEDIA_TYPES.index);
    expect(toOciMediaType(DOCKER_MEDIA_TYPES.manifest)).toBe(OCI_MEDIA_TYPES.manifest);
    expect(toOciMediaType(DOCKER_MEDIA_TYPES.config)).toBe(OCI_MEDIA_TYPES.config);
    expect(toOciMediaType(DOCKER_MEDIA_TYPES.layerGzip)).toBe(OCI_MEDIA_TYPES.layerGzip);
    expect(toOciMediaType(DOCKER_MEDIA_TYPES.foreignLayerGzip)).toBe(
      OCI_MEDIA_TYPES.layerNonDistributableGzip,
    );
    expect(toOciMediaType('application/vnd.example')).toBe('application/vnd.example');
    expect(toDockerMediaType(OCI_MEDIA_TYPES.layerGzip)).toBe(DOCKER_MEDIA_TYPES.layerGzip);
    expect(toDockerMediaType(OCI_MEDIA_TYPES.index)).toBe(DOCKER_MEDIA_TYPES.manifestList);
    expect(toDockerMediaType(DOCKER_MEDIA_TYPES.config)).toBe(DOCKER_MEDIA_TYPES.config);
    expect(toDockerMediaType(OCI_MEDIA_TYPES.empty)).toBeUndefined();
    expect(ociLayerMediaType('zstd')).toBe(OCI_MEDIA_TYPES.layerZstd);
  });
});
