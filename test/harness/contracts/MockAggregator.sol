pragma solidity ^0.4.24;

// A Chainlink-style price feed (AggregatorV3Interface's read side) whose rounds a test sets: each round
// is an answer and the time it was updated, so a test can make a feed fresh, stale, or absent.
contract MockAggregator {
    uint8 public decimals;
    uint80 public latestRound;
    mapping(uint80 => int256) private answers;
    mapping(uint80 => uint256) private updatedAts;

    constructor(uint8 _decimals) public {
        decimals = _decimals;
    }

    function addRound(int256 answer, uint256 updatedAt) external {
        latestRound += 1;
        answers[latestRound] = answer;
        updatedAts[latestRound] = updatedAt;
    }

    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        require(roundId > 0 && roundId <= latestRound, "No data present");
        return (roundId, answers[roundId], updatedAts[roundId], updatedAts[roundId], roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRound);
    }
}
