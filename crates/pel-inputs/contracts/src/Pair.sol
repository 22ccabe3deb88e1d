// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20 {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
}

/// A constant-product pool in the style of Uniswap V2: tokens are sent in first, `swap` sends
/// the output and checks that the product of the balances, less a 0.3% fee on what came in,
/// did not fall. Layout set by generated pre-states: slot 0 `token0`, slot 1 `token1`, slot 2
/// `reserve0`, slot 3 `reserve1`.
contract Pair {
    address public token0;
    address public token1;
    uint256 public reserve0;
    uint256 public reserve1;

    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );
    event Sync(uint256 reserve0, uint256 reserve1);

    function getReserves() external view returns (uint256, uint256) {
        return (reserve0, reserve1);
    }

    function swap(uint256 amount0Out, uint256 amount1Out, address to) external {
        require(amount0Out > 0 || amount1Out > 0, "output");
        (uint256 r0, uint256 r1) = (reserve0, reserve1);
        require(amount0Out < r0 && amount1Out < r1, "liquidity");
        if (amount0Out > 0) require(IERC20(token0).transfer(to, amount0Out), "transfer0");
        if (amount1Out > 0) require(IERC20(token1).transfer(to, amount1Out), "transfer1");
        uint256 balance0 = IERC20(token0).balanceOf(address(this));
        uint256 balance1 = IERC20(token1).balanceOf(address(this));
        uint256 in0 = balance0 > r0 - amount0Out ? balance0 - (r0 - amount0Out) : 0;
        uint256 in1 = balance1 > r1 - amount1Out ? balance1 - (r1 - amount1Out) : 0;
        require(in0 > 0 || in1 > 0, "input");
        uint256 adjusted0 = balance0 * 1000 - in0 * 3;
        uint256 adjusted1 = balance1 * 1000 - in1 * 3;
        require(adjusted0 * adjusted1 >= r0 * r1 * 1_000_000, "k");
        reserve0 = balance0;
        reserve1 = balance1;
        emit Sync(balance0, balance1);
        emit Swap(msg.sender, in0, in1, amount0Out, amount1Out, to);
    }
}
