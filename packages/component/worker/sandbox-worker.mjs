// One sandbox worker thread: receives compiled core modules and calls from the main thread, runs them with
// runtime.mjs, and answers host imports by blocking on Atomics.wait until the main thread replies.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { createRuntime } from './runtime.mjs';

const { control, replyPort, maxInstances } = workerData;
const flags = new Int32Array(control); // [0]: reply ready, [1]: current call cancelled
let currentCall = 0;

function hostCall(method, args) {
  Atomics.store(flags, 0, 0);
  parentPort.postMessage({ type: 'host', callId: currentCall, method, args });
  Atomics.wait(flags, 0, 0);
  const msg = receiveMessageOnPort(replyPort);
  if (!msg) throw new Error('sandbox: host reply missing');
  return msg.message;
}

const runtime = createRuntime({
  hostCall,
  hostNotify: (method, args) => parentPort.postMessage({ type: 'notify', callId: currentCall, method, args }),
  isCancelled: () => Atomics.load(flags, 1) !== 0,
  maxInstances,
});

const loads = new Map();

parentPort.on('message', async (msg) => {
  if (msg.type === 'load') {
    const p = runtime.load(msg.componentKey, msg.spec);
    loads.set(msg.componentKey, p);
    try {
      await p;
      parentPort.postMessage({ type: 'loaded', componentKey: msg.componentKey });
    } catch (err) {
      loads.delete(msg.componentKey);
      parentPort.postMessage({
        type: 'loaded',
        componentKey: msg.componentKey,
        error: String(err?.stack ?? err),
      });
    }
    return;
  }
  if (msg.type === 'run') {
    currentCall = msg.callId; // the main thread cleared the cancel flag before posting the call
    let result;
    try {
      await loads.get(msg.req.componentKey);
      result = runtime.run(msg.req);
    } catch (err) {
      result = {
        error: { code: 'GT_COMPONENT_SANDBOX', message: `sandbox failure: ${err?.message ?? err}` },
      };
    }
    parentPort.postMessage({ type: 'done', callId: msg.callId, result, instances: runtime.instanceCount() });
  }
});
