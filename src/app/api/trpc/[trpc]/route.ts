import { handleTrpcRequest } from '../../../../server/trpcHandler';

export const dynamic = 'force-dynamic';

export { handleTrpcRequest as GET, handleTrpcRequest as POST };
