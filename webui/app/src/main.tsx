import { createRoot } from 'react-dom/client';
import { App } from './app';
import { RootBoundary } from './boundary';
import './style.css';

createRoot(document.getElementById('root')!).render(
  <RootBoundary>
    <App />
  </RootBoundary>,
);
