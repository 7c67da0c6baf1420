interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | undefined;
}

/**
 * The JSON pointer of the first array or object that nests deeper than `maxDepth` (the top-level
 * value is level 1), or undefined. Iterative, so that a 100k-deep body cannot overflow this walk
 * the way it overflows JSON.stringify and every recursive walker after it.
 */
export function tooDeep(root: unknown, maxDepth: number): string | undefined {
  const stack: Frame[] = [{ value: root, depth: 1, key: "", parent: undefined }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value, depth } = frame;
    if (typeof value !== "object" || value === null) continue;
    if (depth > maxDepth) return pointerOf(frame);
    for (const [key, child] of Object.entries(value)) {
      if (typeof child === "object" && child !== null) stack.push({ value: child, depth: depth + 1, key, parent: frame });
    }
  }
  return undefined;
}

function pointerOf(frame: Frame): string {
  const keys: string[] = [];
  for (let at: Frame | undefined = frame; at?.parent; at = at.parent) keys.push(at.key.replaceAll("~", "~0").replaceAll("/", "~1"));
  return keys.reverse().map((key) => `/${key}`).join("");
}
