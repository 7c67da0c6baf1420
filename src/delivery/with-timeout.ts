/** Resolves as `promise` does, or rejects once `ms` passed (saying `what` did not finish). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not close within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
