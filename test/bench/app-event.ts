// The benchmark's wait for one RadioApp event (the first that matches), with a timeout naming it.
import type { RadioApp } from '../../firmware/app/radio-app.js';

export function onceApp<T>(app: RadioApp, event: 'delivered' | 'sealed' | 'recording', what: string, ms: number, match: (e: T) => boolean = () => true): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      app.off(event, on as never);
      reject(new Error(`no ${what} within ${ms / 1000} s`));
    }, ms);
    const on = (e: T) => {
      if (!match(e)) return;
      clearTimeout(timer);
      app.off(event, on as never);
      resolve(e);
    };
    app.on(event, on as never);
  });
}
