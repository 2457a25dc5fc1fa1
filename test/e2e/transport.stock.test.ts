import { runLiveClientSuite } from './liveClientSuite';

runLiveClientSuite('stock');
