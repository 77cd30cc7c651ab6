/**
 * The image store: names (tags) kept in the layout's `index.json`, images resolved through
 * the content store. Image ID = the config digest (docker classic store, podman); `digest` is
 * the manifest (or index) digest that `name@digest` pins. See names.ts for how names are
 * written so skopeo and umoci see the same tags.
 */
import {
  invalidArgument,
  isImageIdentifier,
  isIndexMediaType,
  isLabError,
  isManifestMediaType,
  notFound,
  parseManifestDocument,
  type Descriptor,
  type Digest,
  type History,
  type ImageConfig,
  type ImageManifest,
  type Platform,
  hostPlatform,
} from '@lab/oci';
import { openContentStore, type ContentStore } from '../content/content-store.js';
import { chainIDs } from './chain-id.js';
import { initLayout, readIndex, tidyEntries, updateIndex } from './index-file.js';
import { bareTarget, entryImageName, namedEntry, normalizeImageName } from './names.js';
import { configPlatform, resolveManifest, type ResolvedManifest } from './resolve-manifest.js';

/** An image as listed: one per distinct `index.json` target. */
export interface Image {
  /** The image ID: the config digest (or the target digest when it cannot be resolved here). */
  id: Digest;
  /** Full normalised names (`docker.io/library/busybox:latest`), in index order; empty = dangling. */
  names: string[];
  /** The manifest or index digest (`name@digest`). */
  digest: Digest;
  /** The `index.json` entry's descriptor, without name annotations. */
  target: Descriptor;
  /** Bytes of content for this platform: manifest + config + layer blobs as stored (compressed). */
  size?: number;
  /** The config's creation time (RFC 3339), when it has one. */
  created?: string;
  /** Why the image could not be resolved for this platform, when it could not. */
  problem?: string;
}

/** Everything needed to run, export or build on an image. */
export interface ResolvedImage extends Image {
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  /** The exact config bytes. */
  configBytes: Buffer;
  /** Same as `id`. */
  configDigest: Digest;
  /** `config.rootfs.diff_ids`: sha256 of each uncompressed layer, base first. */
  diffIDs: Digest[];
  /** ChainID of layers 0..i for each i: the snapshot keys. */
  chainIDs: Digest[];
  /** Layer descriptors (compressed blobs), base first, paired with diffIDs. */
  layers: Descriptor[];
  history: History[];
  /** Bytes of content: manifest + config + layer blobs as stored (compressed). */
  size: number;
  platform: Platform;
}

export interface ResolveOptions {
  /** Which manifest of an index to take; default the host's platform. */
  platform?: Platform;
}

export interface UntagResult {
  /** The image the name pointed at. */
  image: Image;
  /** True when no name is left on that image (it is now dangling). */
  dangling: boolean;
}

export interface ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  /** Every image, one per distinct target, in `index.json` order. */
  list(options?: ResolveOptions): Promise<Image[]>;
  /**
   * Finds an image by name (`busybox`, `busybox:latest`, `docker.io/library/busybox:latest`),
   * by `name@sha256:…`, by ID (`sha256:<64 hex>`, 64 hex, or a unique prefix of 4+ hex
   * digits, with or without `sha256:`) or by manifest digest. `not-found` when none matches,
   * `invalid-argument` when a short ID is ambiguous.
   */
  get(nameOrId: string, options?: ResolveOptions): Promise<Image>;
  /** Resolves an image to its manifest, config, layers, DiffIDs and ChainIDs. */
  resolve(nameOrId: string, options?: ResolveOptions): Promise<ResolvedImage>;
  /**
   * Points `name` at a manifest or index already in the content store (checked). An image the
   * name pointed at before keeps its other names, or stays as a dangling entry.
   */
  put(name: string, target: Descriptor): Promise<Image>;
  /** Adds an unnamed (dangling) entry for `target` unless it already has an entry: keeps it from GC. */
  putUnnamed(target: Descriptor): Promise<void>;
  /** Gives the image `source` (any form `get` accepts) the name `newName`. */
  tag(source: string, newName: string): Promise<Image>;
  /** Removes a name; the image stays (as dangling when it was its last name). */
  untag(name: string): Promise<UntagResult>;
  /**
   * Drops every `index.json` entry of the target `digest` (all its names). The blobs stay
   * until gc; use `removeImage` from gc for the checked, user-facing removal.
   */
  removeEntries(digest: Digest): Promise<number>;
}

const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{4,64})$/;

async function describeTarget(content: ContentStore, target: Descriptor): Promise<void> {
  const info = await content.info(target.digest);
  if (info.size !== target.size) {
    throw invalidArgument(
      `descriptor of ${target.digest} says ${target.size} bytes but the blob has ${info.size}; fix the descriptor`,
      { details: { digest: target.digest } },
    );
  }
  if (!isManifestMediaType(target.mediaType) && !isIndexMediaType(target.mediaType)) {
    throw invalidArgument(
      `${target.digest} has media type ${target.mediaType}: an image name must point at an image manifest or index`,
      { details: { digest: target.digest, mediaType: target.mediaType } },
    );
  }
  parseManifestDocument(
    await content.readBlob(target.digest),
    target.mediaType,
    `blob ${target.digest}`,
  );
}

/** Opens the image store of a lab root, making the root an OCI layout if it is not one. */
export async function openImageStore(
  root: string,
  options: { content?: ContentStore } = {},
): Promise<ImageStore> {
  const content = options.content ?? (await openContentStore(root));
  await initLayout(root);

  async function resolveEntry(target: Descriptor, platform: Platform): Promise<ResolvedManifest> {
    return resolveManifest(content, target, platform);
  }

  /** The images of index.json, names gathered, not yet resolved (id = target digest). */
  async function entries(): Promise<Image[]> {
    const index = await readIndex(root);
    const byDigest = new Map<string, Image>();
    // tidyEntries: a name belongs to its last entry (another tool may have appended a newer one).
    for (const entry of tidyEntries(index.manifests)) {
      if (!isManifestMediaType(entry.mediaType) && !isIndexMediaType(entry.mediaType)) continue;
      let image = byDigest.get(entry.digest);
      if (image === undefined) {
        image = { id: entry.digest, names: [], digest: entry.digest, target: bareTarget(entry) };
        byDigest.set(entry.digest, image);
      }
      const name = entryImageName(entry);
      if (name !== undefined && !image.names.includes(name)) image.names.push(name);
    }
    return [...byDigest.values()];
  }

  /** Fills in the ID, size and creation time of an image (or the problem that prevents it). */
  async function identify(image: Image, platform: Platform): Promise<Image> {
    try {
      const r = await resolveEntry(image.target, platform);
      image.id = r.configDescriptor.digest;
      image.size =
        r.manifestDescriptor.size +
        r.configDescriptor.size +
        r.manifest.layers.reduce((sum, l) => sum + l.size, 0);
      if (typeof r.config.created === 'string') image.created = r.config.created;
    } catch (err) {
      if (!isLabError(err)) throw err;
      image.problem = err.message;
    }
    return image;
  }

  async function list(opts: ResolveOptions = {}): Promise<Image[]> {
    const platform = opts.platform ?? hostPlatform();
    const images = await entries();
    for (const image of images) await identify(image, platform);
    return images;
  }

  async function get(nameOrId: string, opts: ResolveOptions = {}): Promise<Image> {
    const platform = opts.platform ?? hostPlatform();
    const input = nameOrId.trim();
    const cheap = await entries();
    let identified: Image[] | undefined;
    const all = async (): Promise<Image[]> => {
      identified ??= await Promise.all(cheap.map((i) => identify(i, platform)));
      return identified;
    };
    // 1. A full ID or digest.
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(input);
    if (full !== null) {
      const digest = `sha256:${full[1]!}`;
      const images = await all();
      const hit = images.find((i) => i.id === digest) ?? images.find((i) => i.digest === digest);
      if (hit !== undefined) return hit;
    }
    // 2. A name, or name@digest.
    let name: string | undefined;
    let pinned: string | undefined;
    const at = input.indexOf('@');
    try {
      if (at > 0) {
        pinned = input.slice(at + 1);
        normalizeImageName(input.slice(0, at));
      } else if (!isImageIdentifier(input)) {
        name = normalizeImageName(input);
      }
    } catch {
      // not a name; may still be a short ID
    }
    if (name !== undefined) {
      const hit = cheap.find((i) => i.names.includes(name));
      if (hit !== undefined) return identify(hit, platform);
    }
    if (pinned !== undefined) {
      const hit = (await all()).find((i) => i.digest === pinned || i.id === pinned);
      if (hit !== undefined) return hit;
    }
    // 3. A unique ID prefix.
    const prefix = ID_PREFIX.exec(input);
    if (prefix !== null) {
      const hex = prefix[1]!;
      const hits = (await all()).filter((i) => i.id.startsWith(`sha256:${hex}`));
      const ids = new Set(hits.map((i) => i.id));
      if (ids.size === 1) return hits[0]!;
      if (ids.size > 1) {
        throw invalidArgument(
          `image ID prefix "${input}" is ambiguous: it matches ${[...ids].join(', ')}; give more digits`,
          { details: { reference: input, matches: [...ids] } },
        );
      }
    }
    throw notFound(
      `no such image: ${input}; pull, load or build it first, or list images with "lab images"`,
      {
        details: { reference: input },
      },
    );
  }

  async function resolve(nameOrId: string, opts: ResolveOptions = {}): Promise<ResolvedImage> {
    const platform = opts.platform ?? hostPlatform();
    const image = await get(nameOrId, opts);
    const r = await resolveEntry(image.target, platform);
    const diffIDs = [...r.config.rootfs.diff_ids];
    const size =
      r.manifestDescriptor.size +
      r.configDescriptor.size +
      r.manifest.layers.reduce((sum, l) => sum + l.size, 0);
    return {
      ...image,
      id: r.configDescriptor.digest,
      manifestDescriptor: r.manifestDescriptor,
      manifest: r.manifest,
      configDescriptor: r.configDescriptor,
      config: r.config,
      configBytes: r.configBytes,
      configDigest: r.configDescriptor.digest,
      diffIDs,
      chainIDs: chainIDs(diffIDs),
      layers: [...r.manifest.layers],
      history: [...(r.config.history ?? [])],
      size,
      ...(r.config.created === undefined || r.config.created === null
        ? {}
        : { created: r.config.created }),
      platform: configPlatform(r.config),
    };
  }

  async function put(name: string, target: Descriptor): Promise<Image> {
    const fullName = normalizeImageName(name);
    await describeTarget(content, target);
    await updateIndex(root, (entries) => ({
      entries: [
        ...entries.map((e) => (entryImageName(e) === fullName ? bareTarget(e) : e)),
        namedEntry(target, fullName),
      ],
      result: undefined,
    }));
    return get(fullName);
  }

  async function putUnnamed(target: Descriptor): Promise<void> {
    await describeTarget(content, target);
    await updateIndex(root, (entries) => ({
      entries: entries.some((e) => e.digest === target.digest)
        ? entries
        : [...entries, bareTarget(target)],
      result: undefined,
    }));
  }

  async function tag(source: string, newName: string): Promise<Image> {
    const image = await get(source);
    return put(newName, image.target);
  }

  async function untag(name: string): Promise<UntagResult> {
    const fullName = normalizeImageName(name);
    const image = await get(fullName);
    if (!image.names.includes(fullName)) {
      throw notFound(`no image is named ${fullName}; list names with "lab images"`, {
        details: { name: fullName },
      });
    }
    const remaining = await updateIndex(root, (entries) => {
      const next = entries.map((e) => (entryImageName(e) === fullName ? bareTarget(e) : e));
      const left = next.filter(
        (e) => e.digest === image.digest && entryImageName(e) !== undefined,
      ).length;
      return { entries: next, result: left };
    });
    return {
      image: { ...image, names: image.names.filter((n) => n !== fullName) },
      dangling: remaining === 0,
    };
  }

  async function removeEntries(digest: Digest): Promise<number> {
    return updateIndex(root, (entries) => {
      const next = entries.filter((e) => e.digest !== digest);
      return { entries: next, result: entries.length - next.length };
    });
  }

  return { root, content, list, get, resolve, put, putUnnamed, tag, untag, removeEntries };
}
