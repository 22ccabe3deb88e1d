// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20 {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

interface IPair {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function getReserves() external view returns (uint256, uint256);
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external;
}

/// The router traders call, as in Uniswap V2: it prices an exact input along a path of pairs,
/// moves the input from the trader into the first pair, and has each pair swap into the next.
/// Stateless: it needs only the trader's allowance on the input token.
contract Router {
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut)
        public
        pure
        returns (uint256)
    {
        uint256 withFee = amountIn * 997;
        return (withFee * reserveOut) / (reserveIn * 1000 + withFee);
    }

    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata pairs,
        address tokenIn,
        address to
    ) external returns (uint256 amountOut) {
        require(pairs.length > 0, "path");
        require(IERC20(tokenIn).transferFrom(msg.sender, pairs[0], amountIn), "transferFrom");
        amountOut = amountIn;
        for (uint256 i = 0; i < pairs.length; i++) {
            IPair pair = IPair(pairs[i]);
            (uint256 r0, uint256 r1) = pair.getReserves();
            bool zeroIn = pair.token0() == tokenIn;
            amountOut = zeroIn ? getAmountOut(amountOut, r0, r1) : getAmountOut(amountOut, r1, r0);
            address next = i + 1 < pairs.length ? pairs[i + 1] : to;
            (uint256 out0, uint256 out1) = zeroIn ? (uint256(0), amountOut) : (amountOut, uint256(0));
            pair.swap(out0, out1, next);
            tokenIn = zeroIn ? pair.token1() : pair.token0();
        }
        require(amountOut >= amountOutMin, "slippage");
    }
}
