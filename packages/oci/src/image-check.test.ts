import { describe, expect, it } from 'vitest';
import { IMAGE_ANNOTATIONS, isValidRefName } from './annotations.js';
import { createDescriptor, EMPTY_DESCRIPTOR } from './descriptor.js';
import { sha256 } from './digest.js';
import { isInvalidArgument } from './errors.js';
import { createImageConfig } from './image-config.js';
import {
  checkArtifactType,
  checkManifestConfig,
  descriptorData,
  layerHistory,
} from './image-check.js';
import { createImageManifest } from './manifest.js';
import { OCI_MEDIA_TYPES } from './media-types.js';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isInvalidArgument(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

const layerA = createDescriptor(OCI_MEDIA_TYPES.layerGzip, 'a');
const layerB = createDescriptor(OCI_MEDIA_TYPES.layer, 'b');
const configOf = (n: number, history?: { empty_layer?: boolean }[]) =>
  createImageConfig({
    architecture: 'amd64',
    os: 'linux',
    diffIds: Array.from({ length: n }, (_, i) => sha256(`d${i}`)),
    ...(history === undefined ? {} : { history }),
  });
const manifestOf = (layers: (typeof layerA)[]) =>
  createImageManifest({ config: createDescriptor(OCI_MEDIA_TYPES.config, '{}'), layers });

describe('checkManifestConfig', () => {
  it('accepts matching layers, DiffIDs and history', () => {
    expect(() => {
      checkManifestConfig(
        manifestOf([layerA, layerB]),
        configOf(2, [{}, { empty_layer: true }, {}]),
      );
    }).not.toThrow();
    expect(layerHistory(configOf(2, [{}, { empty_layer: true }, {}]))).toHaveLength(2);
  });
  it('names each mismatch', () => {
    expect(
      message(() => {
        checkManifestConfig(manifestOf([layerA]), configOf(2), 'img');
      }),
    ).toBe(
      'img: manifest has 1 layer(s) but its config lists 2 rootfs.diff_ids; the image is corrupt, pull or build it again',
    );
    expect(
      message(() => {
        checkManifestConfig(
          manifestOf([layerA, { ...layerB, mediaType: 'application/x-thing' }]),
          configOf(2),
        );
      }),
    ).toMatch(/^manifest\.layers\[1\]\.mediaType: "application\/x-thing" is not a layer type/);
    expect(
      message(() => {
        checkManifestConfig(manifestOf([layerA]), configOf(1, [{}, {}]));
      }),
    ).toMatch(/config\.history has 2 non-empty entries but there are 1 layer/);
  });
});

describe('descriptorData', () => {
  it('returns verified embedded data', () => {
    expect(Buffer.from(descriptorData(EMPTY_DESCRIPTOR)!).toString()).toBe('{}');
    expect(descriptorData(layerA)).toBeUndefined();
  });
  it('refuses data that does not match size or digest', () => {
    expect(message(() => descriptorData({ ...EMPTY_DESCRIPTOR, size: 3 }))).toMatch(
      /^descriptor\.data: embedded data is 2 bytes but size says 3/,
    );
    expect(
      message(() => descriptorData({ ...EMPTY_DESCRIPTOR, data: 'W10=' }, 'manifest.config')),
    ).toMatch(/^manifest\.config\.data: embedded data has digest sha256:/);
  });
});

describe('artifacts and ref names', () => {
  it('requires artifactType with an empty config', () => {
    expect(
      message(() => {
        checkArtifactType(
          createImageManifest({ config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR] }),
        );
      }),
    ).toMatch(/artifactType: required/);
    expect(() => {
      checkArtifactType(
        createImageManifest({
          config: EMPTY_DESCRIPTOR,
          layers: [],
          artifactType: 'application/x.example',
        }),
      );
    }).not.toThrow();
  });
  it.each([
    ['v1', true],
    ['1.0', true],
    ['docker.io/library/busybox:latest', true],
    ['a--b', true],
    ['a---b', false],
    ['', false],
    ['-v1', false],
    ['a//b', false],
    ['tag with space', false],
  ])('ref.name %j valid: %s', (value, valid) => {
    expect(isValidRefName(value)).toBe(valid);
  });
  it('has the spec keys', () => {
    expect(IMAGE_ANNOTATIONS.refName).toBe('org.opencontainers.image.ref.name');
  });
});
