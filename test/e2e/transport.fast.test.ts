import { runLiveClientSuite } from './liveClientSuite';

runLiveClientSuite('fast');
