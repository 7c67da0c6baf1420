import { BloomFilter } from "bloomfilter";

export interface CustomerFilterOptions {
  /** False-positive rate the filter is sized for. @defaultValue 0.01 */
  errorRate?: number;
  /** Smallest capacity it is built with. @defaultValue 1024 */
  minCapacity?: number;
}

/**
 * A Bloom filter of the customers that have an open session: an event for anyone else is dropped
 * after reading only its customer id. A Bloom filter cannot forget, so it is rebuilt from the live
 * set when closed sessions make up half of what it holds, or when it is full (its error rate would
 * grow); each build is sized for twice the customers it starts with.
 */
export interface CustomerFilter {
  /** False: surely no open session. True: maybe (check the set). */
  mightContain(customerId: string): boolean;
  add(customerId: string): void;
  /** The customer has no open session any more; may trigger a rebuild from `live()`. */
  removed(): void;
  /** Capacity of the current build, and how many customers went into it. */
  stats(): { capacity: number; added: number; removedSinceBuild: number; bits: number; rebuilds: number };
}

export function createCustomerFilter(live: () => Iterable<string>, { errorRate = 0.01, minCapacity = 1024 }: CustomerFilterOptions = {}): CustomerFilter {
  let filter: BloomFilter;
  let capacity = 0;
  let added = 0;
  let removedSinceBuild = 0;
  let rebuilds = 0;

  const build = (): void => {
    const customers = [...live()];
    capacity = Math.max(minCapacity, customers.length * 2);
    // Optimal sizing: m = -n·ln p / (ln 2)², k = (m/n)·ln 2.
    const bits = Math.ceil((-capacity * Math.log(errorRate)) / Math.LN2 ** 2);
    filter = new BloomFilter(bits, Math.max(1, Math.round((bits / capacity) * Math.LN2)));
    for (const customer of customers) filter.add(customer);
    added = customers.length;
    removedSinceBuild = 0;
    rebuilds++;
  };
  build();
  rebuilds = 0;

  return {
    mightContain: (customerId) => filter.test(customerId),
    add(customerId) {
      if (added >= capacity) build();
      filter.add(customerId);
      added++;
    },
    removed() {
      removedSinceBuild++;
      if (removedSinceBuild > minCapacity / 2 && removedSinceBuild * 2 > added) build();
    },
    stats: () => ({ capacity, added, removedSinceBuild, bits: filter.m, rebuilds }),
  };
}
