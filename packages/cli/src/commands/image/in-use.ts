/**
 * Is an image used by a container? Until `@lab/lifecycle` owns containers and provides this
 * hook, lab looks at `<root>/containers/<id>/` and reads the first of `config.json`,
 * `container.json` or `config` there: a container uses the image when one of the top-level
 * fields `image`, `Image`, `imageId`, `ImageID`, `imageRef` holds the image's ID, manifest
 * digest or one of its names. No `containers/` directory means nothing is in use.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Image, ImageInUse } from '@lab/layers';

const FILES = ['config.json', 'container.json', 'config'];
const KEYS = ['image', 'Image', 'imageId', 'ImageID', 'imageID', 'imageRef'];

async function containerImageRefs(dir: string): Promise<string[]> {
  for (const file of FILES) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null) return [];
      const record = value as Record<string, unknown>;
      return KEYS.map((k) => record[k]).filter((v): v is string => typeof v === 'string');
    } catch {
      return [];
    }
  }
  return [];
}

/** The `isInUse` hook over `<root>/containers`. */
export function containersUseImage(root: string): ImageInUse {
  return async (image: Image) => {
    let ids: string[];
    try {
      ids = await readdir(join(root, 'containers'));
    } catch {
      return false;
    }
    const wanted = new Set<string>([image.id, image.id.slice(7), image.digest, ...image.names]);
    for (const id of ids) {
      const refs = await containerImageRefs(join(root, 'containers', id));
      if (refs.some((r) => wanted.has(r))) return true;
    }
    return false;
  };
}
