/**
 * How image names are stored in `index.json` (the only place lab keeps them).
 *
 * Each name is one `manifests[]` entry carrying two annotations:
 *
 * - `io.containerd.image.name`: the full normalised name, `docker.io/library/busybox:latest`
 *   (what containerd and Docker 25+ write; lab reads it first).
 * - `org.opencontainers.image.ref.name`: the familiar name with a `:latest` tag left out —
 *   `busybox` for `docker.io/library/busybox:latest`, `busybox:1.36`, `foo/bar:v1`,
 *   `localhost:5000/app`. It is chosen so that `skopeo inspect oci:<root>:busybox` finds the
 *   image lab calls `busybox` (skopeo 1.9.3 and umoci 0.4.7 look up ref.name verbatim and
 *   accept `/` and `:` in it, checked here), and so that normalising it with docker's rules
 *   gives back the full name.
 *
 * An entry written by another tool (skopeo copy into `oci:<root>:alpine`, umoci) has only a
 * ref.name: lab normalises it (`alpine` → `docker.io/library/alpine:latest`). An entry whose
 * ref.name is not a valid reference is kept verbatim and not shown as a lab name; an entry
 * without names is a dangling image (docker's `<none>:<none>`), still a GC root.
 */
import {
  ANNOTATION_CONTAINERD_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  familiarString,
  invalidArgument,
  parseReference,
  referenceString,
  type Descriptor,
  type ImageReference,
} from '@lab/oci';

/** The full normalised name of user input (`busybox` → `docker.io/library/busybox:latest`). */
export function normalizeImageName(input: string): string {
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw invalidArgument(
      `"${input}" names a digest: an image name is [registry/]repository[:tag]; drop the @digest part`,
      { details: { name: input } },
    );
  }
  return referenceString(ref);
}

/** The `ref.name` lab writes for a full name: its familiar form, `:latest` left out. */
export function refNameFor(fullName: string): string {
  const ref = parseReference(fullName);
  const shown: ImageReference =
    ref.tag === 'latest' && ref.digest === undefined ? { domain: ref.domain, path: ref.path } : ref;
  return familiarString(shown);
}

function tryNormalize(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return normalizeImageName(value);
  } catch {
    return undefined;
  }
}

/** The full name an `index.json` entry carries, if any (containerd's annotation first). */
export function entryImageName(entry: Descriptor): string | undefined {
  return (
    tryNormalize(entry.annotations?.[ANNOTATION_CONTAINERD_IMAGE_NAME]) ??
    tryNormalize(entry.annotations?.[ANNOTATION_REF_NAME])
  );
}

/** True when the entry has a name annotation lab could not read as a name. */
export function hasForeignName(entry: Descriptor): boolean {
  const ref = entry.annotations?.[ANNOTATION_REF_NAME];
  return ref !== undefined && ref !== '' && entryImageName(entry) === undefined;
}

/** The entry for `target` named `fullName` (other annotations of the target kept). */
export function namedEntry(target: Descriptor, fullName: string): Descriptor {
  return {
    ...bareTarget(target),
    annotations: {
      ...bareTarget(target).annotations,
      [ANNOTATION_CONTAINERD_IMAGE_NAME]: fullName,
      [ANNOTATION_REF_NAME]: refNameFor(fullName),
    },
  };
}

/** The target descriptor without lab's name annotations (an unnamed, dangling entry). */
export function bareTarget(target: Descriptor): Descriptor {
  const { annotations, ...rest } = target;
  if (annotations === undefined) return rest;
  const kept = Object.fromEntries(
    Object.entries(annotations).filter(
      ([k]) => k !== ANNOTATION_REF_NAME && k !== ANNOTATION_CONTAINERD_IMAGE_NAME,
    ),
  );
  return Object.keys(kept).length === 0 ? rest : { ...rest, annotations: kept };
}
