import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import './app/styles.css';

// A native notification was clicked in the desktop shell: open the notification centre on that event.
window.relaydesk?.onFocusEvent((seq, action) => {
  location.hash = action ? `#/alerts/${seq}/${action}` : `#/alerts/${seq}`;
});

createRoot(document.getElementById('root')!).render(<App />);
