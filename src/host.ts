// Giving the host's event loop a turn between slices of guest execution.

let channel: MessageChannel | undefined;
const pending: (() => void)[] = [];

/**
 * Resolve on the next turn of the event loop: setImmediate in Node; a MessageChannel in
 * browsers and workers, because nested setTimeout(0) is clamped to 4 ms there (1 ms in Node).
 */
export function yieldToHost(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') {
      setImmediate(resolve);
    } else if (typeof MessageChannel === 'function') {
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => pending.shift()?.();
      }
      pending.push(resolve);
      channel.port2.postMessage(0);
    } else {
      setTimeout(resolve, 0);
    }
  });
}

/**
 * A machine's idle wait: wait() until wake() (input, I/O completion, pause/stop) or `ms`
 * elapse; it resolves true if the time ran out.
 */
export class EventWait {
  private wakeUp: (() => void) | undefined;

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  wait(ms?: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.wakeUp = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(false);
      };
      if (ms !== undefined) timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(true);
      }, ms);
    });
  }
}
