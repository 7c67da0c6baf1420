// The `bloomfilter` package ships no types; this is the part of its API the hub uses.
declare module "bloomfilter" {
  export class BloomFilter {
    /** `bits` is rounded up to a multiple of 32; `hashes` hash functions per value. */
    constructor(bits: number, hashes: number);
    add(value: string): void;
    test(value: string): boolean;
    /** Estimated number of values added. */
    size(): number;
    readonly m: number;
    readonly k: number;
  }
}
