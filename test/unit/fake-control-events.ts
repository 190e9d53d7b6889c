// The event half of a scripted tor control connection for unit tests: listeners by event name, and
// emit() building the ControlEvent tor's asynchronous 650 reply would give.
import type { ControlEvent, EventListener } from '../../firmware/tor/control-connection.js';

export class FakeControlEvents {
  readonly #listeners = new Map<string, Set<EventListener>>();

  on(eventName: string, listener: EventListener): () => void {
    let set = this.#listeners.get(eventName);
    if (!set) this.#listeners.set(eventName, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(text: string, name = 'HS_DESC'): void {
    const event: ControlEvent = { name, text, lines: [{ code: 650, sep: ' ', text: `${name} ${text}` }] };
    for (const l of this.#listeners.get(name) ?? []) l(event);
  }
}
