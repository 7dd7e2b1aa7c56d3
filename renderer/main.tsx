import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import './app/styles.css';

// A native notification was clicked in the desktop shell: bring up the notification centre.
window.relaydesk?.onFocusEvent(() => {
  location.hash = '#/alerts';
});

createRoot(document.getElementById('root')!).render(<App />);
