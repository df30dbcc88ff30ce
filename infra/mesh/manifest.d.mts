// Types of manifest.mjs (plain ESM so Node scripts use it without a build step).
export interface MeshWorker {
  name: string;
  service: string;
  binding: string | null;
  public: boolean;
  callees: string[];
  dir: string;
  configPath: string;
  envInterface: string;
}
export declare const repoRoot: string;
export declare const manifestPath: string;
export declare const meshWorkers: MeshWorker[];
export declare const publicWorker: MeshWorker;
export declare const internalWorkers: MeshWorker[];
export declare const deployOrder: MeshWorker[];
export declare function workerNamed(name: string): MeshWorker;
export declare function servicesOf(worker: MeshWorker): Array<{ binding: string; service: string }>;
