export declare const COUNTER_PATH: string;
export declare const ACTOR_HEADER: string;
