/**
 * Whether a string is an image reference `reference.ParseNormalizedNamed` (docker's
 * distribution/reference) accepts: `[domain/]path[:tag][@digest]`, lower-case path
 * components, not a 64-hex image ID. Used by InvalidDefaultArgInFrom.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

export function isValidImageReference(ref: string): boolean {
  if (ref === '' || /^[a-f0-9]{64}$/.test(ref)) return false;
  const m = REFERENCE.exec(ref);
  if (m === null) return false;
  return (m[1] ?? '').length <= 255;
}
