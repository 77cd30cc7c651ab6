/**
 * docker-archive's `manifest.json`: an array with one object per image, `Config` (a path in the
 * archive), `RepoTags` (references or null), `Layers` (paths, base first), optionally `Parent`
 * and `LayerSources` (DiffID → descriptor, for foreign layers). Written by `docker save` (every
 * version), `podman save`, `skopeo copy … docker-archive:` and lab.
 */
import { decodeJson, invalidArgument, type JsonInput } from '@lab/oci';

/** One image of a docker-archive. */
export interface DockerManifestItem {
  /** Path of the config file in the archive. */
  Config: string;
  /** Names of the image, as written (familiar or fully qualified). */
  RepoTags: string[];
  /** Paths of the layer tars in the archive, base layer first. */
  Layers: string[];
  /** The legacy parent image ID, if any. */
  Parent?: string;
  /** Foreign layers: DiffID → descriptor. Kept as written. */
  LayerSources?: Record<string, unknown>;
}

function fail(source: string, field: string, problem: string): Error {
  return invalidArgument(
    `${source}: ${field} ${problem}; this is not a valid docker-archive manifest.json`,
    {
      details: { entry: source, field },
    },
  );
}

/** Parses and checks `manifest.json`; errors name the file and the field. */
export function parseDockerManifest(
  input: JsonInput,
  source = 'manifest.json',
): DockerManifestItem[] {
  const value = decodeJson(input, source);
  if (!Array.isArray(value)) throw fail(source, 'the document', 'is not an array');
  return value.map((raw: unknown, i): DockerManifestItem => {
    const at = `[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw fail(source, at, 'is not an object');
    }
    const item = raw as Record<string, unknown>;
    const config = item.Config;
    if (typeof config !== 'string' || config === '')
      throw fail(source, `${at}.Config`, 'must be a path');
    const tags = item.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string')) {
      throw fail(source, `${at}.RepoTags`, 'must be an array of strings or null');
    }
    const layers = item.Layers ?? [];
    if (
      !Array.isArray(layers) ||
      !layers.every((l): l is string => typeof l === 'string' && l !== '')
    ) {
      throw fail(source, `${at}.Layers`, 'must be an array of paths');
    }
    const out: DockerManifestItem = { Config: config, RepoTags: tags, Layers: layers };
    if (typeof item.Parent === 'string' && item.Parent !== '') out.Parent = item.Parent;
    if (typeof item.LayerSources === 'object' && item.LayerSources !== null) {
      out.LayerSources = item.LayerSources as Record<string, unknown>;
    }
    return out;
  });
}
