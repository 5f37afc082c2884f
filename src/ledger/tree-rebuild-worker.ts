/** Worker thread entry of {@link TreeRebuildWorker}: leaf hashes in, the rebuild's result out. */
import { parentPort, workerData } from 'node:worker_threads';
import { TreeRebuilder, type TreeRebuildSpec } from './tree-rebuild.js';

const rebuilder = new TreeRebuilder(workerData as TreeRebuildSpec);
parentPort!.on('message', (message: { leaves?: ArrayBuffer; finish?: boolean }) => {
  if (message.leaves !== undefined) rebuilder.add(new Uint8Array(message.leaves));
  if (message.finish === true) parentPort!.postMessage(rebuilder.finish());
});
