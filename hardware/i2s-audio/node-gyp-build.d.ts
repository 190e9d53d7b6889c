// node-gyp-build ships no types; this is the part of its API the addon loader uses.
declare module 'node-gyp-build' {
  interface NodeGypBuild {
    (dir: string): unknown;
    /** The path of the .node file that would load for dir (build/Release, then prebuilds/); throws if none. */
    resolve(dir: string): string;
  }
  const load: NodeGypBuild;
  export default load;
}
